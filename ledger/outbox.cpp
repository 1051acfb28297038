#include "ledger/outbox.hpp"

#include <boost/json.hpp>

#include "ledger/store.hpp"

namespace pb::ledger {
using detail::guarded;
using detail::Stmt;
namespace json = boost::json;

namespace {

constexpr const char* kColumns =
    "id, idempotency_key, service, method, path, body, subject, state, attempts, created_utc_ms, "
    "next_attempt_utc_ms, last_attempt_utc_ms, last_error, reply, done_utc_ms, retried_utc_ms";

Error err(Errc c, std::string msg) { return Error{c, std::move(msg)}; }

OutboxMessage row(const Stmt& s) {
    OutboxMessage m;
    m.id = s.i64(0);
    m.idempotency_key = s.text(1);
    m.service = s.text(2);
    m.method = s.text(3);
    m.path = s.text(4);
    m.body = s.text(5);
    m.subject = s.text(6);
    m.state = outbox_state_from_id(s.text(7)).value_or(OutboxState::pending);
    m.attempts = s.i64(8);
    m.created_utc_ms = s.i64(9);
    m.next_attempt_utc_ms = s.i64(10);
    if (!s.is_null(11)) m.last_attempt_utc_ms = s.i64(11);
    m.last_error = s.text(12);
    m.reply = s.text(13);
    if (!s.is_null(14)) m.done_utc_ms = s.i64(14);
    if (!s.is_null(15)) m.retried_utc_ms = s.i64(15);
    return m;
}

std::vector<OutboxMessage> select(detail::Store& s, const std::string& where, const std::function<void(Stmt&)>& bind) {
    auto st = s.db.prepare(std::string("SELECT ") + kColumns + " FROM outbox " + where);
    bind(st);
    std::vector<OutboxMessage> out;
    while (st.step()) out.push_back(row(st));
    return out;
}

std::optional<OutboxMessage> load(detail::Store& s, std::int64_t id) {
    auto v = select(s, "WHERE id = ?", [&](Stmt& st) { st.bind(1, id); });
    if (v.empty()) return std::nullopt;
    return v.front();
}

void journal(detail::Store& s, std::string_view kind, const OutboxMessage& m, json::object extra = {}) {
    extra["key"] = m.idempotency_key;
    extra["service"] = m.service;
    extra["attempts"] = m.attempts;
    s.append(kind, "outbox/" + std::to_string(m.id), json::serialize(extra));
}

void set_state(detail::Store& s, std::int64_t id, OutboxState state, std::int64_t attempts, std::int64_t next,
               std::optional<std::int64_t> last_attempt, std::string_view error, std::string_view reply,
               std::optional<std::int64_t> done) {
    auto st = s.db.prepare(
        "UPDATE outbox SET state = ?, attempts = ?, next_attempt_utc_ms = ?, last_attempt_utc_ms = ?, "
        "last_error = ?, reply = ?, done_utc_ms = ? WHERE id = ?");
    st.bind(1, outbox_state_id(state)).bind(2, attempts).bind(3, next).bind(4, last_attempt).bind(5, error);
    st.bind(6, reply).bind(7, done).bind(8, id);
    st.run();
}

}  // namespace

std::string_view outbox_state_id(OutboxState s) {
    switch (s) {
        case OutboxState::pending: return "pending";
        case OutboxState::delivered: return "delivered";
        case OutboxState::dead: return "dead";
    }
    return "pending";
}

std::optional<OutboxState> outbox_state_from_id(std::string_view id) {
    for (auto s : {OutboxState::pending, OutboxState::delivered, OutboxState::dead})
        if (outbox_state_id(s) == id) return s;
    return std::nullopt;
}

std::int64_t backoff_ms(std::int64_t failures, const RetryPolicy& policy) {
    std::int64_t d = policy.initial_ms < 1 ? 1 : policy.initial_ms;
    for (std::int64_t i = 1; i < failures && d < policy.max_ms; ++i) d *= 2;
    return d < policy.max_ms ? d : policy.max_ms;
}

Result<OutboxMessage> outbox_enqueue(Tx& tx, const OutboxNew& m) {
    return guarded([&]() -> Result<OutboxMessage> {
        auto bad = [](std::string what) { return pb::unexpected(err(Errc::invalid_argument, "outbox message: " + what)); };
        if (m.idempotency_key.empty() || m.idempotency_key.size() > 128) return bad("idempotency key must be 1..128 bytes");
        for (char c : m.idempotency_key)
            if (c < 0x21 || c > 0x7e) return bad("idempotency key must be printable ASCII without spaces");
        if (m.service.empty()) return bad("service is empty");
        if (m.method.empty()) return bad("method is empty");
        if (m.path.empty() || m.path.front() != '/') return bad("path must start with '/'");
        boost::system::error_code ec;
        auto v = json::parse(m.body, ec);
        if (ec || !v.is_object()) return bad("body is not a JSON object");
        auto& s = tx.store();
        auto existing = select(s, "WHERE idempotency_key = ?", [&](Stmt& st) { st.bind(1, m.idempotency_key); });
        if (!existing.empty()) {
            const auto& e = existing.front();
            if (e.service != m.service || e.method != m.method || e.path != m.path || e.body != m.body)
                return pb::unexpected(err(Errc::key_conflict, "outbox key '" + m.idempotency_key +
                                                                  "' already used for message " + std::to_string(e.id) +
                                                                  " with a different content"));
            return e;
        }
        const std::int64_t now = s.now();
        auto st = s.db.prepare(
            "INSERT INTO outbox(idempotency_key, service, method, path, body, subject, state, attempts, "
            "created_utc_ms, next_attempt_utc_ms, last_error, reply) VALUES(?,?,?,?,?,?,'pending',0,?,?,'','')");
        st.bind(1, m.idempotency_key).bind(2, m.service).bind(3, m.method).bind(4, m.path).bind(5, m.body);
        st.bind(6, m.subject).bind(7, now).bind(8, now);
        st.run();
        auto msg = load(s, s.db.last_insert_rowid());
        if (!msg) return pb::unexpected(err(Errc::storage, "outbox message vanished after insert"));
        journal(s, "outbox.enqueued", *msg, {{"path", m.path}, {"subject", m.subject}});
        return *msg;
    });
}

Result<std::vector<OutboxMessage>> outbox_due(Tx& tx, std::int64_t now, std::size_t limit) {
    return guarded([&]() -> Result<std::vector<OutboxMessage>> {
        return select(tx.store(), "WHERE state = 'pending' AND next_attempt_utc_ms <= ? ORDER BY next_attempt_utc_ms, id LIMIT ?",
                      [&](Stmt& st) { st.bind(1, now).bind(2, static_cast<std::int64_t>(limit)); });
    });
}

Result<std::optional<std::int64_t>> outbox_next_due(Tx& tx) {
    return guarded([&]() -> Result<std::optional<std::int64_t>> {
        auto st = tx.store().db.prepare("SELECT min(next_attempt_utc_ms) FROM outbox WHERE state = 'pending'");
        std::optional<std::int64_t> out;
        if (st.step() && !st.is_null(0)) out = st.i64(0);
        return out;
    });
}

Result<OutboxMessage> outbox_get(Tx& tx, std::int64_t id) {
    return guarded([&]() -> Result<OutboxMessage> {
        auto m = load(tx.store(), id);
        if (!m) return pb::unexpected(err(Errc::not_found, "no outbox message " + std::to_string(id)));
        return *m;
    });
}

Result<OutboxMessage> outbox_delivered(Tx& tx, std::int64_t id, std::string_view reply) {
    return guarded([&]() -> Result<OutboxMessage> {
        auto& s = tx.store();
        auto m = load(s, id);
        if (!m) return pb::unexpected(err(Errc::not_found, "no outbox message " + std::to_string(id)));
        if (m->state == OutboxState::delivered) return *m;
        const std::int64_t now = s.now();
        set_state(s, id, OutboxState::delivered, m->attempts + 1, m->next_attempt_utc_ms, now, "", reply, now);
        m = load(s, id);
        journal(s, "outbox.delivered", *m);
        return *m;
    });
}

Result<OutboxMessage> outbox_failed(Tx& tx, std::int64_t id, std::string_view error, std::string_view reply,
                                    bool permanent, const RetryPolicy& policy) {
    return guarded([&]() -> Result<OutboxMessage> {
        auto& s = tx.store();
        auto m = load(s, id);
        if (!m) return pb::unexpected(err(Errc::not_found, "no outbox message " + std::to_string(id)));
        if (m->state != OutboxState::pending)
            return pb::unexpected(err(Errc::invalid_transition, "outbox message " + std::to_string(id) + " is " +
                                                                    std::string(outbox_state_id(m->state))));
        const std::int64_t now = s.now();
        const std::int64_t attempts = m->attempts + 1;
        const bool too_old = now - m->retried_utc_ms.value_or(m->created_utc_ms) >= policy.dead_after_ms;
        if (permanent || too_old) {
            std::string why = permanent ? std::string(error) : "not acknowledged within " +
                                                                  std::to_string(policy.dead_after_ms / 1000) +
                                                                  " s; last error: " + std::string(error);
            set_state(s, id, OutboxState::dead, attempts, m->next_attempt_utc_ms, now, why, reply, now);
            m = load(s, id);
            journal(s, "outbox.dead", *m, {{"error", why}});
            return *m;
        }
        set_state(s, id, OutboxState::pending, attempts, now + backoff_ms(attempts, policy), now, error, reply,
                  std::nullopt);
        return *load(s, id);
    });
}

Result<std::vector<OutboxMessage>> outbox_list(Tx& tx, const OutboxFilter& f) {
    return guarded([&]() -> Result<std::vector<OutboxMessage>> {
        std::string where = "WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR service = ?2) ORDER BY id DESC LIMIT ?3";
        return select(tx.store(), where, [&](Stmt& st) {
            if (f.state)
                st.bind(1, outbox_state_id(*f.state));
            else
                st.bind_null(1);
            if (f.service)
                st.bind(2, *f.service);
            else
                st.bind_null(2);
            st.bind(3, static_cast<std::int64_t>(f.limit));
        });
    });
}

Result<std::vector<OutboxMessage>> outbox_retry(Tx& tx, std::optional<std::int64_t> id, std::string_view who) {
    return guarded([&]() -> Result<std::vector<OutboxMessage>> {
        auto& s = tx.store();
        std::vector<OutboxMessage> targets;
        if (id) {
            auto m = load(s, *id);
            if (!m) return pb::unexpected(err(Errc::not_found, "no outbox message " + std::to_string(*id)));
            if (m->state != OutboxState::dead)
                return pb::unexpected(err(Errc::invalid_transition, "outbox message " + std::to_string(*id) + " is " +
                                                                        std::string(outbox_state_id(m->state)) +
                                                                        ", only dead letters are retried"));
            targets.push_back(*m);
        } else {
            targets = select(s, "WHERE state = 'dead' ORDER BY id", [](Stmt&) {});
        }
        const std::int64_t now = s.now();
        std::vector<OutboxMessage> out;
        for (const auto& m : targets) {
            // A fresh age for the dead-letter rule: the retry counts from now.
            auto st = s.db.prepare(
                "UPDATE outbox SET state = 'pending', next_attempt_utc_ms = ?, retried_utc_ms = ?, done_utc_ms = NULL "
                "WHERE id = ?");
            st.bind(1, now).bind(2, now).bind(3, m.id);
            st.run();
            auto fresh = load(s, m.id);
            journal(s, "outbox.retry", *fresh, {{"by", std::string(who)}});
            out.push_back(*fresh);
        }
        return out;
    });
}

}  // namespace pb::ledger
