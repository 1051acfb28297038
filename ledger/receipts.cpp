#include "ledger/receipts.hpp"

#include <boost/json.hpp>

#include "ledger/store.hpp"

namespace pb::ledger {
namespace json = boost::json;
using detail::guarded;
using detail::Stmt;

namespace {

constexpr const char* kColumns =
    "id, order_id, register_id, customer_id, state, channel, destination, payment_id, lines, qr_shown, copies, "
    "opened_utc_ms, display_until_utc_ms, final_utc_ms, delete_after_utc_ms, deleted_utc_ms";

Error err(Errc c, std::string m) { return Error{c, std::move(m)}; }

std::string lines_text(const std::vector<std::string>& lines) {
    json::array a;
    for (const auto& l : lines) a.emplace_back(l);
    return json::serialize(a);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    const json::value parsed = json::parse(text);
    for (const auto& v : parsed.as_array()) out.emplace_back(v.as_string());
    return out;
}

std::optional<std::int64_t> opt(const Stmt& s, int c) {
    if (s.is_null(c)) return std::nullopt;
    return s.i64(c);
}

ReceiptRecord row(const Stmt& s) {
    ReceiptRecord r;
    r.id = s.text(0);
    r.order_id = s.text(1);
    r.register_id = s.text(2);
    r.customer_id = s.text(3);
    const std::string st = s.text(4);
    r.state = st == "open" ? ReceiptState::open : st == "final" ? ReceiptState::final : ReceiptState::deleted;
    r.channel = s.text(5);
    r.destination = s.text(6);
    if (!s.is_null(7)) r.payment = PaymentId{s.i64(7)};
    r.lines = lines_of(s.text(8));
    r.qr_shown = s.i64(9) != 0;
    r.copies = s.i64(10);
    r.opened_utc_ms = s.i64(11);
    r.display_until_utc_ms = opt(s, 12);
    r.final_utc_ms = opt(s, 13);
    r.delete_after_utc_ms = s.i64(14);
    r.deleted_utc_ms = opt(s, 15);
    return r;
}

std::vector<ReceiptRecord> select(detail::Store& s, const std::string& where, const std::function<void(Stmt&)>& bind) {
    auto st = s.db.prepare(std::string("SELECT ") + kColumns + " FROM receipts " + where);
    bind(st);
    std::vector<ReceiptRecord> out;
    while (st.step()) out.push_back(row(st));
    return out;
}

std::optional<ReceiptRecord> one(detail::Store& s, const std::string& where, std::string_view key) {
    auto v = select(s, where, [&](Stmt& st) { st.bind(1, key); });
    if (v.empty()) return std::nullopt;
    return v.front();
}

}  // namespace

std::string_view receipt_state_id(ReceiptState s) {
    switch (s) {
        case ReceiptState::open: return "open";
        case ReceiptState::final: return "final";
        case ReceiptState::deleted: return "deleted";
    }
    return "?";
}

Result<ReceiptOpened> receipt_open(Tx& tx, const ReceiptOpenNew& r) {
    if (r.id.empty() || r.order_id.empty() || r.register_id.empty())
        return pb::unexpected(err(Errc::invalid_argument, "receipt: id, order and register are required"));
    return guarded([&]() -> Result<ReceiptOpened> {
        auto& s = tx.store();
        if (auto existing = one(s, "WHERE order_id = ?", r.order_id)) return ReceiptOpened{*existing, false};
        auto st = s.db.prepare(
            "INSERT INTO receipts(id, order_id, register_id, customer_id, state, channel, destination, payment_id, lines, "
            "qr_shown, copies, opened_utc_ms, display_until_utc_ms, final_utc_ms, delete_after_utc_ms, deleted_utc_ms) "
            "VALUES(?, ?, ?, ?, 'open', '', '', NULL, '[]', ?, 0, ?, ?, NULL, ?, NULL)");
        st.bind(1, r.id).bind(2, r.order_id).bind(3, r.register_id).bind(4, r.customer_id);
        st.bind(5, std::int64_t{r.qr_shown ? 1 : 0}).bind(6, s.now()).bind(7, r.display_until_utc_ms);
        st.bind(8, r.delete_after_utc_ms);
        st.run();
        // The receipt id is the customer's URL: kept off the chain, the order names it.
        s.append("receipt.opened", "order:" + r.order_id, json::serialize(json::object{{"qr", r.qr_shown}}));
        return ReceiptOpened{*one(s, "WHERE id = ?", r.id), true};
    });
}

Result<ReceiptRecord> receipt_by_order(Tx& tx, std::string_view order_id) {
    return guarded([&]() -> Result<ReceiptRecord> {
        auto r = one(tx.store(), "WHERE order_id = ?", order_id);
        if (!r) return pb::unexpected(err(Errc::not_found, "order " + std::string(order_id) + " has no receipt"));
        return *r;
    });
}

Result<ReceiptRecord> receipt_get(Tx& tx, std::string_view id) {
    return guarded([&]() -> Result<ReceiptRecord> {
        auto r = one(tx.store(), "WHERE id = ?", id);
        if (!r) return pb::unexpected(err(Errc::not_found, "no receipt " + std::string(id)));
        return *r;
    });
}

Result<ReceiptRecord> receipt_finalise(Tx& tx, std::string_view id, const ReceiptFinal& f) {
    if (f.channel.empty()) return pb::unexpected(err(Errc::invalid_argument, "receipt: channel is required"));
    return guarded([&]() -> Result<ReceiptRecord> {
        auto& s = tx.store();
        auto r = one(s, "WHERE id = ?", id);
        if (!r) return pb::unexpected(err(Errc::not_found, "no receipt " + std::string(id)));
        if (r->state != ReceiptState::open)
            return pb::unexpected(err(Errc::invalid_transition, "the receipt of order " + r->order_id + " is " +
                                                                    std::string(receipt_state_id(r->state)) +
                                                                    (r->channel.empty() ? "" : " (" + r->channel + ")")));
        auto st = s.db.prepare(
            "UPDATE receipts SET state = 'final', channel = ?, destination = ?, payment_id = ?, lines = ?, final_utc_ms = ? "
            "WHERE id = ?");
        st.bind(1, f.channel).bind(2, f.destination).bind(3, f.payment.value).bind(4, lines_text(f.lines));
        st.bind(5, s.now()).bind(6, id);
        st.run();
        s.db.prepare("DELETE FROM receipt_slips WHERE payment_id = ?").bind(1, f.payment.value).run();
        s.append("receipt.delivered", std::to_string(f.payment.value),
                 json::serialize(json::object{{"order_id", r->order_id}, {"channel", f.channel}}));
        return *one(s, "WHERE id = ?", id);
    });
}

Result<std::int64_t> receipt_add_copy(Tx& tx, std::string_view id, std::string_view channel, std::string_view operator_id) {
    return guarded([&]() -> Result<std::int64_t> {
        auto& s = tx.store();
        auto r = one(s, "WHERE id = ?", id);
        if (!r) return pb::unexpected(err(Errc::not_found, "no receipt " + std::string(id)));
        if (r->state != ReceiptState::final)
            return pb::unexpected(err(Errc::invalid_transition,
                                      r->state == ReceiptState::open
                                          ? "the receipt of order " + r->order_id + " has no original yet"
                                          : "the receipt of order " + r->order_id + " was deleted after its retention"));
        s.db.prepare("UPDATE receipts SET copies = copies + 1 WHERE id = ?").bind(1, id).run();
        const std::int64_t n = r->copies + 1;
        s.append("receipt.copied", std::to_string(r->payment ? r->payment->value : 0),
                 json::serialize(json::object{{"order_id", r->order_id},
                                              {"copy", n},
                                              {"channel", std::string(channel)},
                                              {"original", r->channel},
                                              {"operator", std::string(operator_id)}}));
        return n;
    });
}

Result<std::vector<ReceiptRecord>> receipts_open(Tx& tx) {
    return guarded([&]() -> Result<std::vector<ReceiptRecord>> {
        return select(tx.store(), "WHERE state = 'open' ORDER BY opened_utc_ms", [](Stmt&) {});
    });
}

Result<std::int64_t> receipts_purge(Tx& tx, std::int64_t now, std::int64_t slip_cutoff) {
    return guarded([&]() -> Result<std::int64_t> {
        auto& s = tx.store();
        auto due = select(s, "INDEXED BY receipts_retention WHERE state IN ('open','final') AND delete_after_utc_ms <= ?",
                          [&](Stmt& st) { st.bind(1, now); });
        for (const auto& r : due) {
            s.db.prepare(
                    "UPDATE receipts SET state = 'deleted', lines = '[]', destination = '', customer_id = '', "
                    "deleted_utc_ms = ? WHERE id = ?")
                .bind(1, s.now())
                .bind(2, r.id)
                .run();
            if (r.payment) s.db.prepare("DELETE FROM receipt_slips WHERE payment_id = ?").bind(1, r.payment->value).run();
            // The outbox carried the document and the phone / e-mail: gone too. A message still
            // pending after the retention is dead (the service would delete it at once anyway).
            s.db.prepare(
                    "UPDATE outbox SET body = '{}', reply = '', "
                    "last_error = CASE WHEN state = 'pending' THEN 'receipt deleted after its retention' ELSE last_error END, "
                    "done_utc_ms = CASE WHEN state = 'pending' THEN ? ELSE done_utc_ms END, "
                    "state = CASE WHEN state = 'pending' THEN 'dead' ELSE state END WHERE subject = ?")
                .bind(1, s.now())
                .bind(2, "receipt/" + r.id)
                .run();
        }
        s.db.prepare("DELETE FROM receipt_slips WHERE created_utc_ms <= ?").bind(1, slip_cutoff).run();
        if (!due.empty())
            s.append("receipt.deleted", "receipts",
                     json::serialize(json::object{{"count", static_cast<std::int64_t>(due.size())}}));
        return static_cast<std::int64_t>(due.size());
    });
}

Status receipt_slip_put(Tx& tx, PaymentId payment, const std::vector<std::string>& lines) {
    return guarded([&]() -> Status {
        auto& s = tx.store();
        s.db.prepare(
                "INSERT INTO receipt_slips(payment_id, lines, created_utc_ms) VALUES(?, ?, ?) "
                "ON CONFLICT(payment_id) DO UPDATE SET lines = excluded.lines")
            .bind(1, payment.value)
            .bind(2, lines_text(lines))
            .bind(3, s.now())
            .run();
        return {};
    });
}

Result<std::vector<std::string>> receipt_slip(Tx& tx, PaymentId payment) {
    return guarded([&]() -> Result<std::vector<std::string>> {
        auto st = tx.store().db.prepare("SELECT lines FROM receipt_slips WHERE payment_id = ?");
        st.bind(1, payment.value);
        if (!st.step()) return std::vector<std::string>{};
        return lines_of(st.text(0));
    });
}

Status receipt_choice_put(Tx& tx, const ReceiptChoice& c) {
    if (c.customer_id.empty() || c.channel.empty())
        return pb::unexpected(err(Errc::invalid_argument, "receipt choice: customer and channel are required"));
    return guarded([&]() -> Status {
        auto& s = tx.store();
        s.db.prepare(
                "INSERT INTO receipt_choices(customer_id, channel, destination, updated_utc_ms) VALUES(?, ?, ?, ?) "
                "ON CONFLICT(customer_id) DO UPDATE SET channel = excluded.channel, destination = excluded.destination, "
                "updated_utc_ms = excluded.updated_utc_ms")
            .bind(1, c.customer_id)
            .bind(2, c.channel)
            .bind(3, c.destination)
            .bind(4, s.now())
            .run();
        return {};
    });
}

Result<std::optional<ReceiptChoice>> receipt_choice(Tx& tx, std::string_view customer_id) {
    return guarded([&]() -> Result<std::optional<ReceiptChoice>> {
        auto st = tx.store().db.prepare("SELECT channel, destination FROM receipt_choices WHERE customer_id = ?");
        st.bind(1, customer_id);
        if (!st.step()) return std::optional<ReceiptChoice>{};
        return std::optional<ReceiptChoice>{ReceiptChoice{std::string(customer_id), st.text(0), st.text(1)}};
    });
}

}  // namespace pb::ledger
