#include "daemon/dashboard_snapshot.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "daemon/business_day.hpp"
#include "daemon/config.hpp"
#include "daemon/payment_service.hpp"

namespace pb::daemon {
namespace json = boost::json;

std::string format_minor_units(std::int64_t minor, int exponent) {
    const bool negative = minor < 0;
    // Magnitude in unsigned so INT64_MIN does not overflow.
    std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
    std::string digits = std::to_string(mag);
    if (exponent > 0) {
        const auto e = static_cast<std::size_t>(exponent);
        if (digits.size() <= e) digits.insert(0, e + 1 - digits.size(), '0');
        digits.insert(digits.size() - e, 1, '.');
    }
    return negative ? "-" + digits : digits;
}

std::string iso_utc(std::int64_t utc_ms) {
    std::time_t t = static_cast<std::time_t>(utc_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

namespace {

struct Line {
    std::int64_t gross_count = 0, gross_minor = 0;
    std::int64_t returned_count = 0, returned_minor = 0;
    int exponent = 2;
};

std::string line_issuer(const ledger::Payment& p) {
    if (p.request.tender == ledger::Tender::cash) return "cash";
    if (!p.issuer_id.empty()) return p.issuer_id;
    if (p.request.tender == ledger::Tender::card) return "unassigned";
    return std::string(ledger::tender_id(p.request.tender));
}

ledger::Result<std::vector<ledger::Payment>> all_of(const ledger::Reader& reader, const std::string& date,
                                                    ledger::PaymentState state) {
    std::vector<ledger::Payment> out;
    ledger::HistoryFilter f;
    f.date_from = date;
    f.date_to = date;
    f.state = state;
    f.limit = 1000;
    for (;;) {
        auto page = reader.history(f);
        if (!page) return pb::unexpected(page.error());
        const bool last = page->size() < f.limit;
        for (auto& p : *page) out.push_back(std::move(p));
        if (last || out.empty()) break;
        f.after = out.back().id;
    }
    return out;
}

}  // namespace

Expected<json::object, std::string> ledger_snapshot(const ledger::Reader& reader, const std::string& business_date,
                                                    std::int64_t now_utc_ms) {
    std::map<std::pair<std::string, std::string>, Line> lines;  // (issuer, currency)
    for (auto state : {ledger::PaymentState::approved, ledger::PaymentState::reversed, ledger::PaymentState::refunded}) {
        auto payments = all_of(reader, business_date, state);
        if (!payments) return pb::unexpected(payments.error().message);
        for (const auto& p : *payments) {
            Line& l = lines[{line_issuer(p), std::string(p.request.amount.currency.code())}];
            l.exponent = p.request.amount.currency.exponent;
            l.gross_count += 1;
            l.gross_minor += p.request.amount.minor;
            if (state != ledger::PaymentState::approved) {
                l.returned_count += 1;
                l.returned_minor += p.request.amount.minor;
            }
        }
    }

    std::map<std::string, std::pair<std::string, std::string>> names;  // issuer -> (name, account)
    if (auto issuers = reader.issuers())
        for (const auto& i : issuers->issuers) names[i.id] = {i.name, i.account};
    names["cash"] = {"Cash", ""};
    names["unassigned"] = {"Card, issuer not recognised", ""};

    // Cash last: finance reads the card issuers first, then the drawer.
    std::vector<std::pair<std::pair<std::string, std::string>, Line>> ordered(lines.begin(), lines.end());
    std::stable_partition(ordered.begin(), ordered.end(), [](const auto& e) { return e.first.first != "cash"; });

    json::array takings;
    std::map<std::string, std::tuple<std::int64_t, std::int64_t, int>> totals;  // currency -> count, minor, exp
    for (const auto& [key, l] : ordered) {
        const auto& [issuer, currency] = key;
        const std::int64_t count = l.gross_count - l.returned_count;
        const std::int64_t minor = l.gross_minor - l.returned_minor;
        auto n = names.find(issuer);
        json::object o;
        o["issuer"] = issuer;
        o["name"] = n == names.end() || n->second.first.empty() ? issuer : n->second.first;
        o["account"] = n == names.end() ? "" : n->second.second;
        o["currency"] = currency;
        o["count"] = count;
        o["amount_minor"] = minor;
        o["amount"] = format_minor_units(minor, l.exponent);
        o["gross_count"] = l.gross_count;
        o["gross_minor"] = l.gross_minor;
        o["returned_count"] = l.returned_count;
        o["returned_minor"] = l.returned_minor;
        takings.push_back(std::move(o));
        auto& t = totals[currency];
        std::get<0>(t) += count;
        std::get<1>(t) += minor;
        std::get<2>(t) = l.exponent;
    }
    json::array takings_totals;
    for (const auto& [currency, t] : totals)
        takings_totals.push_back(json::object{{"currency", currency},
                                              {"count", std::get<0>(t)},
                                              {"amount_minor", std::get<1>(t)},
                                              {"amount", format_minor_units(std::get<1>(t), std::get<2>(t))}});

    auto open = reader.interim();
    if (!open) return pb::unexpected(open.error().message);
    json::array interim;
    for (const auto& p : *open) {
        json::object o;
        o["payment_id"] = p.id.value;
        o["order_id"] = p.request.order_id;
        o["terminal"] = p.request.terminal_id;
        o["register_id"] = p.request.register_id;
        o["amount_minor"] = p.request.amount.minor;
        o["amount"] = format_minor_units(p.request.amount.minor, p.request.amount.currency.exponent);
        o["currency"] = std::string(p.request.amount.currency.code());
        o["state"] = std::string(ledger::state_id(p.state));
        o["reason"] = p.reason;
        o["masked_pan"] = p.terminal.pan.str();  // MaskedPan: never more than 6 + 4 digits
        o["created_at"] = iso_utc(p.created_utc_ms);
        o["age_s"] = std::max<std::int64_t>(0, (now_utc_ms - p.created_utc_ms) / 1000);
        interim.push_back(std::move(o));
    }

    json::object out;
    out["generated_at"] = iso_utc(now_utc_ms);
    out["business_date"] = business_date;
    out["takings"] = std::move(takings);
    out["takings_totals"] = std::move(takings_totals);
    out["interim"] = std::move(interim);
    return out;
}

}  // namespace pb::daemon

namespace pb::daemon {

boost::json::value dashboard_snapshot(const ledger::Ledger& ledger, const PaymentService& payments,
                                      const Config& config, std::int64_t now_utc_ms) {
    json::object out;
    {
        auto view = ledger.reader();
        auto snap = ledger_snapshot(*view, business_date(now_utc_ms, config.ledger.day_starts_at), now_utc_ms);
        if (snap) {
            out = std::move(*snap);
        } else {
            out["generated_at"] = iso_utc(now_utc_ms);
            out["error"] = "ledger: " + snap.error();
        }
    }
    auto terminals = json::parse(payments.terminals_json());
    out["terminals"] = terminals.as_object()["terminals"];
    return out;
}

}  // namespace pb::daemon
