// Cash reconciliation: journal window per register, expected against counted.
#include "ledger/reconcile.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <tuple>

#include "ledger/finance_common.hpp"
#include "ledger/store.hpp"

namespace pb::ledger {
namespace json = boost::json;
using detail::guarded;
using finance::format_minor;
using finance::jint;
using finance::jstr;

namespace {
Error err(Errc c, std::string m) { return Error{c, std::move(m)}; }
}  // namespace

Result<CashCount> reconcile_cash(Tx& tx, const CashCountRequest& r) {
    return guarded([&]() -> Result<CashCount> {
        auto bad = [](std::string m) { return pb::unexpected(err(Errc::invalid_argument, "cash count: " + m)); };
        if (r.register_id.empty()) return bad("register is empty");
        if (r.counted_by.empty()) return bad("who counted is empty");
        if (!finance::valid_date(r.business_date)) return bad("business date '" + r.business_date + "' is not YYYY-MM-DD");
        if (r.float_minor < 0 || r.withdrawals_minor < 0 || r.counted_minor < 0)
            return bad("float, withdrawals and counted amount cannot be negative");
        if (r.difference_account.empty()) return bad("difference account is empty");
        auto currency = currency_from_code(r.currency);
        if (!currency) return bad("unknown currency " + r.currency);
        auto& s = tx.store();
        if (s.db.scalar("SELECT count(*) FROM operators").value_or(0) > 0 && !tx.may(r.counted_by, Right::close_day) &&
            !tx.may(r.counted_by, Right::take_cash))
            return pb::unexpected(err(Errc::permission_denied, "operator '" + r.counted_by + "' may not count cash"));

        const std::string subject = "cashcount/" + r.register_id;
        {
            auto st = s.db.prepare("SELECT seq, body FROM events WHERE subject = ? AND kind = 'cash.counted'");
            st.bind(1, subject);
            while (st.step()) {
                auto c = cash_count_from_json(st.i64(0), st.text(1));
                if (!c) continue;
                if (c->business_date >= r.business_date)
                    return pb::unexpected(err(Errc::invalid_transition, "register " + r.register_id +
                                                                            " is already counted for " + c->business_date +
                                                                            " (event " + std::to_string(c->seq) + ")"));
            }
        }
        CashCount c;
        c.register_id = r.register_id;
        c.business_date = r.business_date;
        c.counted_by = r.counted_by;
        c.difference_account = r.difference_account;
        c.currency = std::string(currency->code());
        c.counted_utc_ms = tx.now_utc_ms();
        c.from_seq = finance::last_seq_of(s, subject);
        c.to_seq = finance::chain_head(s);
        c.float_minor = r.float_minor;
        c.withdrawals_minor = r.withdrawals_minor;
        c.counted_minor = r.counted_minor;
        for (const auto& m : finance::movements(s, c.from_seq, c.to_seq, Tender::cash, "", r.register_id)) {
            if (m.kind == "payment.approved") {
                ++c.sales_count;
                c.sales_minor += m.amount_minor;
            } else if (m.kind == "payment.refunded" || m.kind == "payment.reversed") {
                ++c.refunds_count;
                c.refunds_minor += m.amount_minor;
            }
        }
        c.expected_minor = c.float_minor + c.sales_minor - c.refunds_minor - c.withdrawals_minor;
        c.difference_minor = c.counted_minor - c.expected_minor;
        json::value body = cash_count_json(c);
        body.as_object().erase("seq");
        auto seq = tx.append_event("cash.counted", subject, json::serialize(body));
        if (!seq) return pb::unexpected(seq.error());
        c.seq = *seq;
        return c;
    });
}

Result<std::vector<CashCount>> cash_counts(Tx& tx, const CashCountFilter& f) {
    return guarded([&]() -> Result<std::vector<CashCount>> {
        std::vector<CashCount> out;
        for (const auto& e : finance::events_with_prefix(tx.store(), "cashcount/")) {
            if (e.kind != "cash.counted") continue;
            auto c = cash_count_from_json(e.seq, e.body);
            if (!c) return pb::unexpected(err(Errc::storage, "cash count event " + std::to_string(e.seq) + " is malformed"));
            if (f.date_from && c->business_date < *f.date_from) continue;
            if (f.date_to && c->business_date > *f.date_to) continue;
            if (f.register_id && c->register_id != *f.register_id) continue;
            out.push_back(std::move(*c));
        }
        std::stable_sort(out.begin(), out.end(), [](const CashCount& a, const CashCount& b) {
            return std::tie(a.business_date, a.register_id, a.seq) < std::tie(b.business_date, b.register_id, b.seq);
        });
        return out;
    });
}

json::value cash_count_json(const CashCount& c) {
    json::object o;
    o["seq"] = c.seq;
    o["register"] = c.register_id;
    o["business_date"] = c.business_date;
    o["counted_by"] = c.counted_by;
    o["counted_utc_ms"] = c.counted_utc_ms;
    o["currency"] = c.currency;
    o["difference_account"] = c.difference_account;
    o["from_seq"] = c.from_seq;
    o["to_seq"] = c.to_seq;
    o["float_minor"] = c.float_minor;
    o["sales_count"] = c.sales_count;
    o["sales_minor"] = c.sales_minor;
    o["refunds_count"] = c.refunds_count;
    o["refunds_minor"] = c.refunds_minor;
    o["withdrawals_minor"] = c.withdrawals_minor;
    o["expected_minor"] = c.expected_minor;
    o["counted_minor"] = c.counted_minor;
    o["difference_minor"] = c.difference_minor;
    return o;
}

std::optional<CashCount> cash_count_from_json(std::int64_t seq, std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    CashCount c;
    c.seq = seq;
    c.register_id = jstr(o, "register");
    c.business_date = jstr(o, "business_date");
    c.counted_by = jstr(o, "counted_by");
    c.counted_utc_ms = jint(o, "counted_utc_ms");
    c.currency = jstr(o, "currency");
    c.difference_account = jstr(o, "difference_account");
    c.from_seq = jint(o, "from_seq");
    c.to_seq = jint(o, "to_seq");
    c.float_minor = jint(o, "float_minor");
    c.sales_count = jint(o, "sales_count");
    c.sales_minor = jint(o, "sales_minor");
    c.refunds_count = jint(o, "refunds_count");
    c.refunds_minor = jint(o, "refunds_minor");
    c.withdrawals_minor = jint(o, "withdrawals_minor");
    c.expected_minor = jint(o, "expected_minor");
    c.counted_minor = jint(o, "counted_minor");
    c.difference_minor = jint(o, "difference_minor");
    return c;
}

std::string cash_count_text(const CashCount& c) {
    std::string out = "CASH COUNT  register " + c.register_id + "  business date " + c.business_date + "  (" +
                      c.currency + ")\ncounted by " + c.counted_by + " at " + finance::date_of_utc_ms(c.counted_utc_ms) +
                      "  event " + std::to_string(c.seq) + "\n\n";
    std::vector<std::vector<std::string>> rows{
        {"float", "", format_minor(c.float_minor)},
        {"+ cash sales", std::to_string(c.sales_count), format_minor(c.sales_minor)},
        {"- cash refunds", std::to_string(c.refunds_count), format_minor(c.refunds_minor)},
        {"- withdrawals", "", format_minor(c.withdrawals_minor)},
        {"= expected", "", format_minor(c.expected_minor)},
        {"counted", "", format_minor(c.counted_minor)},
        {"difference", "", format_minor(c.difference_minor)},
    };
    out += finance::table({"item", "n", "amount"}, rows, {false, true, true});
    if (c.difference_minor != 0)
        out += "\n" + std::string(c.difference_minor > 0 ? "SURPLUS " : "SHORTAGE ") +
               format_minor(c.difference_minor < 0 ? -c.difference_minor : c.difference_minor) + " booked to account " +
               c.difference_account + "\n";
    return out;
}

}  // namespace pb::ledger
