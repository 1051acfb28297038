// Day-close: journal window per terminal, per-issuer totals, Z-report.
#include "ledger/day_close.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "ledger/benefit.hpp"
#include "ledger/commitment.hpp"
#include "ledger/finance_common.hpp"
#include "ledger/store.hpp"

namespace pb::ledger {
namespace json = boost::json;
using detail::guarded;
using finance::jint;
using finance::jstr;

namespace {

Error err(Errc c, std::string m) { return Error{c, std::move(m)}; }

constexpr std::string_view kUnassigned = "unassigned";

std::string subject_of(const std::string& terminal) { return "dayclose/" + terminal; }

std::vector<DayClose> closes_of_subject(detail::Store& s, const std::string& subject) {
    auto st = s.db.prepare("SELECT seq, body FROM events WHERE subject = ? AND kind = 'dayclose.closed' ORDER BY seq");
    st.bind(1, subject);
    std::vector<DayClose> out;
    while (st.step())
        if (auto c = day_close_from_json(st.i64(0), st.text(1))) out.push_back(std::move(*c));
    return out;
}

json::array ids_json(const std::vector<std::int64_t>& ids) {
    json::array a;
    for (auto id : ids) a.push_back(id);
    return a;
}

std::vector<std::int64_t> ids_from(const json::object& o, std::string_view key) {
    std::vector<std::int64_t> out;
    if (auto* v = o.if_contains(key); v && v->is_array())
        for (const auto& x : v->get_array())
            if (x.is_int64()) out.push_back(x.get_int64());
    return out;
}

std::string utc_text(std::int64_t ms) {
    const std::int64_t secs = ms / 1000;
    const std::int64_t day_secs = ((secs % 86400) + 86400) % 86400;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", static_cast<int>(day_secs / 3600),
                  static_cast<int>(day_secs / 60 % 60), static_cast<int>(day_secs % 60));
    return finance::date_of_utc_ms(ms) + " " + buf + " UTC";
}

// Net movements of one upstream tender at a register since its last close window, one line
// per key (provider, billing reference), sorted by key.
template <class Line, class KeyOf>
std::vector<Line> upstream_lines(detail::Store& s, const std::string& window_subject, std::int64_t to_seq, Tender tender,
                                 const std::string& register_id, const std::string& currency,
                                 std::string Line::*key, KeyOf key_of) {
    std::map<std::string, Line> by_key;
    for (const auto& m : finance::movements(s, finance::last_seq_of(s, window_subject), to_seq, tender, "", register_id)) {
        if (m.kind == "payment.aborted" || m.kind == "payment.unknown" || m.currency != currency) continue;
        const std::string k = key_of(m.payment_id);
        auto& l = by_key[k];
        l.*key = k;
        const int sign = m.kind == "payment.approved" ? 1 : -1;
        l.count += sign;
        l.amount += sign * m.amount_minor;
        if (std::find(l.payments.begin(), l.payments.end(), m.payment_id) == l.payments.end())
            l.payments.push_back(m.payment_id);
    }
    std::vector<Line> out;
    for (auto& [k, l] : by_key) out.push_back(std::move(l));
    return out;
}

}  // namespace

Result<DayClose> close_day(Tx& tx, const DayCloseRequest& r) {
    return guarded([&]() -> Result<DayClose> {
        if (r.terminal_id.empty()) return pb::unexpected(err(Errc::invalid_argument, "day-close: terminal is empty"));
        if (r.register_id.empty()) return pb::unexpected(err(Errc::invalid_argument, "day-close: register is empty"));
        if (r.operator_id.empty()) return pb::unexpected(err(Errc::invalid_argument, "day-close: operator is empty"));
        if (!finance::valid_date(r.business_date))
            return pb::unexpected(
                err(Errc::invalid_argument, "day-close: business date '" + r.business_date + "' is not YYYY-MM-DD"));
        auto currency = currency_from_code(r.currency);
        if (!currency) return pb::unexpected(err(Errc::invalid_argument, "day-close: unknown currency " + r.currency));
        auto& s = tx.store();
        if (s.db.scalar("SELECT count(*) FROM operators").value_or(0) > 0 && !tx.may(r.operator_id, Right::close_day))
            return pb::unexpected(
                err(Errc::permission_denied, "operator '" + r.operator_id + "' may not close the day"));

        const std::string subject = subject_of(r.terminal_id);
        for (const auto& c : closes_of_subject(s, subject)) {
            if (c.business_date == r.business_date)
                return pb::unexpected(err(Errc::invalid_transition,
                                          "terminal " + r.terminal_id + " business date " + r.business_date +
                                              " is already closed (event " + std::to_string(c.seq) +
                                              "); a closed day is immutable"));
            if (c.business_date > r.business_date)
                return pb::unexpected(err(Errc::invalid_transition, "terminal " + r.terminal_id + " is already closed for " +
                                                                        c.business_date + ", after " + r.business_date));
        }
        auto cfg = tx.issuers();
        if (!cfg) return pb::unexpected(cfg.error());

        DayClose c;
        c.register_id = r.register_id;
        c.terminal_id = r.terminal_id;
        c.business_date = r.business_date;
        c.operator_id = r.operator_id;
        c.batch_reference = r.batch_reference;
        c.currency = std::string(currency->code());
        c.closed_utc_ms = tx.now_utc_ms();
        c.from_seq = finance::last_seq_of(s, subject);
        c.to_seq = finance::chain_head(s);
        c.has_terminal_totals = r.terminal_totals.has_value();

        struct Agg {
            std::int64_t count = 0, amount = 0;
            std::set<std::int64_t> payments;
        };
        std::map<std::string, Agg> ledger_by;
        std::set<std::int64_t> interim;
        for (const auto& m : finance::movements(s, c.from_seq, c.to_seq, Tender::card, r.terminal_id, "")) {
            if (m.kind == "payment.aborted" || m.kind == "payment.unknown") {
                if (m.state == "aborted" || m.state == "unknown") interim.insert(m.payment_id);
                continue;
            }
            const int sign = m.kind == "payment.approved" ? 1 : -1;
            auto& a = ledger_by[m.issuer_id.empty() ? std::string(kUnassigned) : m.issuer_id];
            a.count += sign;
            a.amount += sign * m.amount_minor;
            a.payments.insert(m.payment_id);
        }
        std::map<std::string, std::pair<std::int64_t, std::int64_t>> terminal_by;
        if (r.terminal_totals) {
            for (const auto& b : *r.terminal_totals) {
                auto& t = terminal_by[finance::issuer_for_name(*cfg, b.issuer_or_bucket)];
                t.first += b.count;
                t.second += b.amount_minor;
            }
        }
        std::set<std::string> ids;
        for (const auto& [id, a] : ledger_by) ids.insert(id);
        for (const auto& [id, t] : terminal_by) ids.insert(id);
        if (c.has_terminal_totals) {
            c.terminal_count = 0;
            c.terminal_amount = 0;
        }
        for (const auto& id : ids) {
            IssuerLine l;
            l.issuer_id = id;
            l.issuer_name = id == kUnassigned ? "Card without issuer" : id;
            for (const auto& i : cfg->issuers)
                if (i.id == id) {
                    l.issuer_name = i.name;
                    l.account = i.account;
                }
            if (auto it = ledger_by.find(id); it != ledger_by.end()) {
                l.ledger_count = it->second.count;
                l.ledger_amount = it->second.amount;
            }
            if (c.has_terminal_totals) {
                auto it = terminal_by.find(id);
                l.terminal_count = it == terminal_by.end() ? 0 : it->second.first;
                l.terminal_amount = it == terminal_by.end() ? 0 : it->second.second;
                l.differs = *l.terminal_count != l.ledger_count || *l.terminal_amount != l.ledger_amount;
                *c.terminal_count += *l.terminal_count;
                *c.terminal_amount += *l.terminal_amount;
            }
            if (l.differs) {
                if (auto it = ledger_by.find(id); it != ledger_by.end())
                    l.payments.assign(it->second.payments.begin(), it->second.payments.end());
                c.differs = true;
            }
            c.ledger_count += l.ledger_count;
            c.ledger_amount += l.ledger_amount;
            c.lines.push_back(std::move(l));
        }
        c.interim_payments.assign(interim.begin(), interim.end());

        // Upstream tenders of the register, per provider / billing reference, each with its own
        // per-register window (BenefitLine, CommitmentLine).
        const std::string benefit_subject = "dayclose-benefit/" + r.register_id;
        const std::string commitment_subject = "dayclose-commitment/" + r.register_id;
        c.benefit = upstream_lines<BenefitLine>(s, benefit_subject, c.to_seq, Tender::benefit_voucher, r.register_id,
                                                c.currency, &BenefitLine::provider_id, [&](std::int64_t id) {
                                                    auto rec = benefit_of(tx, PaymentId{id});
                                                    return rec ? rec->provider_id : std::string("?");
                                                });
        c.commitment = upstream_lines<CommitmentLine>(
            s, commitment_subject, c.to_seq, Tender::commitment_card, r.register_id, c.currency,
            &CommitmentLine::billing_reference, [&](std::int64_t id) {
                auto rec = commitment_of(tx, PaymentId{id});
                return rec && rec->debit ? rec->debit->billing_reference : std::string("?");
            });

        json::value body = z_report_json(c);
        body.as_object().erase("seq");
        auto seq = tx.append_event("dayclose.closed", subject, json::serialize(body));
        if (!seq) return pb::unexpected(seq.error());
        c.seq = *seq;
        // The register's benefit window ends here (see BenefitLine).
        if (!c.benefit.empty())
            if (auto e = tx.append_event("dayclose.benefit", benefit_subject, json::serialize(json::object{{"close", c.seq}})); !e)
                return pb::unexpected(e.error());
        if (!c.commitment.empty())
            if (auto e = tx.append_event("dayclose.commitment", commitment_subject,
                                         json::serialize(json::object{{"close", c.seq}}));
                !e)
                return pb::unexpected(e.error());
        return c;
    });
}

Result<std::vector<DayClose>> day_closes(Tx& tx, const DayCloseFilter& f) {
    return guarded([&]() -> Result<std::vector<DayClose>> {
        std::vector<DayClose> out;
        for (const auto& e : finance::events_with_prefix(tx.store(), "dayclose/")) {
            if (e.kind != "dayclose.closed") continue;
            auto c = day_close_from_json(e.seq, e.body);
            if (!c) return pb::unexpected(err(Errc::storage, "day-close event " + std::to_string(e.seq) + " is malformed"));
            if (f.date_from && c->business_date < *f.date_from) continue;
            if (f.date_to && c->business_date > *f.date_to) continue;
            if (f.terminal_id && c->terminal_id != *f.terminal_id) continue;
            if (f.register_id && c->register_id != *f.register_id) continue;
            out.push_back(std::move(*c));
        }
        std::stable_sort(out.begin(), out.end(), [](const DayClose& a, const DayClose& b) {
            return std::tie(a.business_date, a.register_id, a.terminal_id, a.seq) <
                   std::tie(b.business_date, b.register_id, b.terminal_id, b.seq);
        });
        return out;
    });
}

Result<DayClose> day_close(Tx& tx, const std::string& terminal_id, const std::string& business_date) {
    return guarded([&]() -> Result<DayClose> {
        for (auto& c : closes_of_subject(tx.store(), subject_of(terminal_id)))
            if (c.business_date == business_date) return std::move(c);
        return pb::unexpected(
            err(Errc::not_found, "no day-close for terminal " + terminal_id + " on " + business_date));
    });
}

json::value z_report_json(const DayClose& c) {
    json::object o;
    o["seq"] = c.seq;
    o["register"] = c.register_id;
    o["terminal"] = c.terminal_id;
    o["business_date"] = c.business_date;
    o["operator"] = c.operator_id;
    o["batch_reference"] = c.batch_reference;
    o["currency"] = c.currency;
    o["closed_utc_ms"] = c.closed_utc_ms;
    o["from_seq"] = c.from_seq;
    o["to_seq"] = c.to_seq;
    o["has_terminal_totals"] = c.has_terminal_totals;
    json::array lines;
    for (const auto& l : c.lines) {
        json::object j;
        j["issuer"] = l.issuer_id;
        j["name"] = l.issuer_name;
        j["account"] = l.account;
        j["ledger_count"] = l.ledger_count;
        j["ledger_amount_minor"] = l.ledger_amount;
        j["ledger_amount"] = finance::format_minor(l.ledger_amount);
        if (l.terminal_count) {
            j["terminal_count"] = *l.terminal_count;
            j["terminal_amount_minor"] = *l.terminal_amount;
            j["terminal_amount"] = finance::format_minor(*l.terminal_amount);
            j["difference_minor"] = *l.terminal_amount - l.ledger_amount;
        }
        j["differs"] = l.differs;
        j["payments"] = ids_json(l.payments);
        lines.push_back(std::move(j));
    }
    o["lines"] = std::move(lines);
    o["interim_payments"] = ids_json(c.interim_payments);
    o["ledger_count"] = c.ledger_count;
    o["ledger_amount_minor"] = c.ledger_amount;
    if (c.terminal_count) {
        o["terminal_count"] = *c.terminal_count;
        o["terminal_amount_minor"] = *c.terminal_amount;
    }
    o["differs"] = c.differs;
    if (!c.benefit.empty()) {
        json::array b;
        for (const auto& l : c.benefit)
            b.push_back(json::object{{"provider", l.provider_id},
                                     {"count", l.count},
                                     {"amount_minor", l.amount},
                                     {"amount", finance::format_minor(l.amount)},
                                     {"payments", ids_json(l.payments)}});
        o["benefit"] = std::move(b);
    }
    if (!c.commitment.empty()) {
        json::array a;
        for (const auto& l : c.commitment)
            a.push_back(json::object{{"billing_reference", l.billing_reference},
                                     {"count", l.count},
                                     {"amount_minor", l.amount},
                                     {"amount", finance::format_minor(l.amount)},
                                     {"payments", ids_json(l.payments)}});
        o["commitment"] = std::move(a);
    }
    return o;
}

std::optional<DayClose> day_close_from_json(std::int64_t seq, std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    DayClose c;
    c.seq = seq;
    c.register_id = jstr(o, "register");
    c.terminal_id = jstr(o, "terminal");
    c.business_date = jstr(o, "business_date");
    c.operator_id = jstr(o, "operator");
    c.batch_reference = jstr(o, "batch_reference");
    c.currency = jstr(o, "currency");
    c.closed_utc_ms = jint(o, "closed_utc_ms");
    c.from_seq = jint(o, "from_seq");
    c.to_seq = jint(o, "to_seq");
    auto* h = o.if_contains("has_terminal_totals");
    c.has_terminal_totals = h && h->is_bool() && h->get_bool();
    if (auto* ls = o.if_contains("lines"); ls && ls->is_array()) {
        for (const auto& x : ls->get_array()) {
            if (!x.is_object()) return std::nullopt;
            const auto& j = x.get_object();
            IssuerLine l;
            l.issuer_id = jstr(j, "issuer");
            l.issuer_name = jstr(j, "name");
            l.account = jstr(j, "account");
            l.ledger_count = jint(j, "ledger_count");
            l.ledger_amount = jint(j, "ledger_amount_minor");
            if (j.contains("terminal_count")) {
                l.terminal_count = jint(j, "terminal_count");
                l.terminal_amount = jint(j, "terminal_amount_minor");
            }
            auto* d = j.if_contains("differs");
            l.differs = d && d->is_bool() && d->get_bool();
            l.payments = ids_from(j, "payments");
            c.lines.push_back(std::move(l));
        }
    }
    c.interim_payments = ids_from(o, "interim_payments");
    c.ledger_count = jint(o, "ledger_count");
    c.ledger_amount = jint(o, "ledger_amount_minor");
    if (o.contains("terminal_count")) {
        c.terminal_count = jint(o, "terminal_count");
        c.terminal_amount = jint(o, "terminal_amount_minor");
    }
    auto* d = o.if_contains("differs");
    c.differs = d && d->is_bool() && d->get_bool();
    if (auto* bs = o.if_contains("benefit"); bs && bs->is_array()) {
        for (const auto& x : bs->get_array()) {
            if (!x.is_object()) return std::nullopt;
            const auto& j = x.get_object();
            c.benefit.push_back(BenefitLine{jstr(j, "provider"), jint(j, "count"), jint(j, "amount_minor"), ids_from(j, "payments")});
        }
    }
    if (auto* cs = o.if_contains("commitment"); cs && cs->is_array()) {
        for (const auto& x : cs->get_array()) {
            if (!x.is_object()) return std::nullopt;
            const auto& j = x.get_object();
            c.commitment.push_back(
                CommitmentLine{jstr(j, "billing_reference"), jint(j, "count"), jint(j, "amount_minor"), ids_from(j, "payments")});
        }
    }
    return c;
}

std::string z_report_text(const DayClose& c) {
    using finance::format_minor;
    std::string out = "Z-REPORT  terminal " + c.terminal_id + "  register " + c.register_id + "  business date " +
                      c.business_date + "  (" + c.currency + ")\n";
    out += "closed " + utc_text(c.closed_utc_ms) + " by " + c.operator_id;
    if (!c.batch_reference.empty()) out += "  batch " + c.batch_reference;
    out += "  journal events " + std::to_string(c.from_seq + 1) + ".." + std::to_string(c.to_seq) + "  close event " +
           std::to_string(c.seq) + "\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : c.lines) {
        std::vector<std::string> r{l.issuer_id, l.account, std::to_string(l.ledger_count), format_minor(l.ledger_amount)};
        if (c.has_terminal_totals)
            r.insert(r.end(), {std::to_string(*l.terminal_count), format_minor(*l.terminal_amount),
                               format_minor(*l.terminal_amount - l.ledger_amount), l.differs ? "DIFFERS" : "ok"});
        rows.push_back(std::move(r));
    }
    std::vector<std::string> total{"total", "", std::to_string(c.ledger_count), format_minor(c.ledger_amount)};
    std::vector<std::string> header{"issuer", "account", "ledger n", "ledger amount"};
    std::vector<bool> right{false, false, true, true};
    if (c.has_terminal_totals) {
        header.insert(header.end(), {"terminal n", "terminal amount", "difference", ""});
        right.insert(right.end(), {true, true, true, false});
        total.insert(total.end(), {std::to_string(*c.terminal_count), format_minor(*c.terminal_amount),
                                   format_minor(*c.terminal_amount - c.ledger_amount), c.differs ? "DIFFERS" : "ok"});
    }
    rows.push_back(std::move(total));
    out += finance::table(header, rows, right);
    if (!c.has_terminal_totals) out += "\nno terminal totals: nothing compared\n";
    for (const auto& l : c.lines) {
        if (!l.differs) continue;
        out += "\nDIFFERENCE " + l.issuer_id + ": terminal " + std::to_string(*l.terminal_count) + " / " +
               format_minor(*l.terminal_amount) + ", ledger " + std::to_string(l.ledger_count) + " / " +
               format_minor(l.ledger_amount) + "; ledger payments:";
        if (l.payments.empty()) out += " none";
        for (auto id : l.payments) out += " " + std::to_string(id);
    }
    if (c.differs) out += "\n";
    if (!c.benefit.empty()) {
        std::vector<std::vector<std::string>> brows;
        for (const auto& l : c.benefit)
            brows.push_back({l.provider_id, std::to_string(l.count), format_minor(l.amount)});
        out += "\nbenefit vouchers of register " + c.register_id + " (not in the card totals):\n" +
               finance::table({"provider", "n", "amount"}, brows, {false, true, true});
    }
    if (!c.commitment.empty()) {
        std::vector<std::vector<std::string>> crows;
        for (const auto& l : c.commitment)
            crows.push_back({l.billing_reference, std::to_string(l.count), format_minor(l.amount)});
        out += "\ncommitment cards of register " + c.register_id + " (invoiced, not in the card totals):\n" +
               finance::table({"billing reference", "n", "amount"}, crows, {false, true, true});
    }
    if (!c.interim_payments.empty()) {
        out += "\ninterim (aborted/unknown) payments of this batch:";
        for (auto id : c.interim_payments) out += " " + std::to_string(id);
        out += "\n";
    }
    return out;
}

Result<std::vector<TerminalBucket>> terminal_totals_from_json(std::string_view text, std::string* batch_reference) {
    auto bad = [](std::string m) { return pb::unexpected(err(Errc::invalid_argument, "terminal totals: " + m)); };
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) return bad("not JSON: " + ec.message());
    const json::array* arr = nullptr;
    if (v.is_array()) {
        arr = &v.get_array();
    } else if (v.is_object()) {
        const auto& o = v.get_object();
        if (batch_reference) *batch_reference = jstr(o, "batch_reference");
        if (auto* t = o.if_contains("totals"); t && t->is_array()) arr = &t->get_array();
    }
    if (!arr) return bad("expected an array of {issuer, count, amount} or {\"totals\": [...]}");
    std::vector<TerminalBucket> out;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string where = "element " + std::to_string(i) + ": ";
        if (!(*arr)[i].is_object()) return bad(where + "not an object");
        const auto& o = (*arr)[i].get_object();
        TerminalBucket b;
        b.issuer_or_bucket = jstr(o, "issuer");
        if (b.issuer_or_bucket.empty()) b.issuer_or_bucket = jstr(o, "bucket");
        if (b.issuer_or_bucket.empty()) return bad(where + "'issuer' missing");
        auto* cnt = o.if_contains("count");
        if (!cnt || !cnt->is_int64()) return bad(where + "'count' must be an integer");
        b.count = cnt->get_int64();
        if (auto* m = o.if_contains("amount_minor"); m && m->is_int64()) {
            b.amount_minor = m->get_int64();
        } else if (auto* a = o.if_contains("amount"); a && a->is_string()) {
            auto p = finance::parse_minor(a->get_string());
            if (!p) return bad(where + "'amount' \"" + std::string(a->get_string()) + "\" is not a decimal like 12.30");
            b.amount_minor = *p;
        } else {
            return bad(where + "'amount' (decimal string) or 'amount_minor' (integer) missing");
        }
        out.push_back(std::move(b));
    }
    return out;
}

}  // namespace pb::ledger
