// The audit chain check: hashes, links, sequence, chain head, and a replay of every payment.
#include "ledger/ledger.hpp"
#include "ledger/sha256.hpp"
#include "ledger/store.hpp"

namespace pb::ledger {
using detail::guarded;

Result<VerifyReport> Reader::verify() const {
    return guarded([&]() -> Result<VerifyReport> {
        VerifyReport rep;
        auto bad = [&](std::int64_t seq, std::string problem) {
            rep.ok = false;
            rep.first_bad_seq = seq;
            rep.problem = std::move(problem);
            return rep;
        };
        std::string prev(32, '\0');
        std::int64_t expect = 1;
        std::int64_t payment_events = 0;
        {
            auto st = s_->db.prepare(
                "SELECT seq, kind, subject, at_utc_ms, body, prev_hash, hash FROM events ORDER BY seq");
            while (st.step()) {
                const std::int64_t seq = st.i64(0);
                if (seq != expect)
                    return bad(seq, "sequence gap: expected event " + std::to_string(expect) + ", found " +
                                        std::to_string(seq) + " (an event was deleted or inserted)");
                if (st.blob(5) != prev)
                    return bad(seq, "event " + std::to_string(seq) + " does not link to the event before it");
                const std::string kind = st.text(1);
                const std::string hash = detail::event_hash(prev, seq, kind, st.text(2), st.i64(3), st.text(4));
                if (st.blob(6) != hash)
                    return bad(seq, "event " + std::to_string(seq) + " was changed (hash mismatch)");
                if (kind.rfind("payment.", 0) == 0) ++payment_events;
                prev = hash;
                ++expect;
                ++rep.events_checked;
            }
        }
        {
            auto st = s_->db.prepare("SELECT seq, hash FROM chain_head WHERE id = 1");
            const bool has_head = st.step();
            const std::int64_t last = expect - 1;
            if (has_head && (st.i64(0) != last || st.blob(1) != prev))
                return bad(has_head && st.i64(0) > last ? last + 1 : st.i64(0),
                           "chain head names event " + std::to_string(st.i64(0)) + " but the journal ends at " +
                               std::to_string(last) + " (events deleted or appended outside the ledger)");
            if (!has_head && last != 0) return bad(1, "chain head missing");
        }
        // Replay each payment's events and compare with its current-state row.
        std::int64_t replayed = 0;
        std::vector<Payment> rows;
        std::int64_t after = 0;
        for (;;) {
            rows = s_->select("id > ? ORDER BY id LIMIT 1000", [&](detail::Stmt& s) { s.bind(1, after); });
            if (rows.empty()) break;
            for (const auto& row : rows) {
                after = row.id.value;
                Payment p;
                p.id = row.id;
                auto ev = s_->db.prepare(
                    "SELECT seq, kind, body, at_utc_ms FROM events WHERE subject = ? AND kind LIKE 'payment.%' "
                    "ORDER BY seq");
                ev.bind(1, std::to_string(row.id.value));
                while (ev.step()) {
                    ++replayed;
                    if (!detail::apply(p, ev.text(1), ev.text(2), ev.i64(0), ev.i64(3)))
                        return bad(ev.i64(0), "event " + std::to_string(ev.i64(0)) + " is not a valid step for payment " +
                                                  std::to_string(row.id.value));
                }
                if (!detail::same_payment(p, row))
                    return bad(p.last_event_seq != 0 ? p.last_event_seq : row.last_event_seq,
                               "payment " + std::to_string(row.id.value) + " differs from its journal");
            }
        }
        if (replayed != payment_events)
            return bad(expect - 1, "journal holds payment events of a payment missing from the payments table");
        return rep;
    });
}

}  // namespace pb::ledger
