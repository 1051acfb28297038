#include "ledger/migrations.hpp"

#include <array>
#include <string>

namespace pb::ledger::detail {
namespace {

// Version i+1 is kMigrations[i]. Tables left for later features (day-close batches, terminal
// end-of-day totals per issuer, cash counts, settlements) come as further migrations; they
// reference payments(id) and append their own events to the same chain.
constexpr std::array<const char*, 5> kMigrations{{
    // 1: the journal and the payments' current state.
    R"sql(
CREATE TABLE events(
  seq        INTEGER PRIMARY KEY,
  kind       TEXT    NOT NULL,
  subject    TEXT    NOT NULL,
  at_utc_ms  INTEGER NOT NULL,
  body       TEXT    NOT NULL,
  prev_hash  BLOB    NOT NULL,
  hash       BLOB    NOT NULL);
CREATE INDEX events_subject ON events(subject, seq);
CREATE TABLE chain_head(
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash BLOB    NOT NULL);
CREATE TABLE payments(
  id              INTEGER PRIMARY KEY,
  order_id        TEXT    NOT NULL,
  request_key     TEXT    NOT NULL UNIQUE,
  amount_minor    INTEGER NOT NULL,
  currency        TEXT    NOT NULL,
  tender          TEXT    NOT NULL,
  register_id     TEXT    NOT NULL,
  terminal_id     TEXT    NOT NULL,
  operator_id     TEXT    NOT NULL,
  receptionist    TEXT    NOT NULL,
  business_date   TEXT    NOT NULL,
  state           TEXT    NOT NULL,
  brand           TEXT    NOT NULL,
  masked_pan      TEXT    NOT NULL,
  trace           INTEGER,
  receipt_no      INTEGER,
  approval_code   TEXT    NOT NULL,
  terminal_tid    TEXT    NOT NULL,
  result_code     INTEGER,
  terminal_text   TEXT    NOT NULL,
  issuer_id       TEXT    NOT NULL,
  reason          TEXT    NOT NULL,
  resolution_how  TEXT,
  resolution_operator TEXT,
  resolution_why  TEXT,
  created_utc_ms  INTEGER NOT NULL,
  updated_utc_ms  INTEGER NOT NULL,
  last_event_seq  INTEGER NOT NULL REFERENCES events(seq));
CREATE INDEX payments_order    ON payments(order_id);
CREATE INDEX payments_terminal ON payments(terminal_id, state);
CREATE INDEX payments_state    ON payments(state);
CREATE INDEX payments_date     ON payments(business_date, register_id);
CREATE INDEX payments_issuer   ON payments(issuer_id, business_date);
)sql",
    // 2: operators, roles and card issuers.
    R"sql(
CREATE TABLE roles(
  name   TEXT PRIMARY KEY,
  rights TEXT NOT NULL);
CREATE TABLE operators(
  id     TEXT PRIMARY KEY,
  name   TEXT NOT NULL,
  active INTEGER NOT NULL);
CREATE TABLE operator_roles(
  operator_id TEXT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
  role        TEXT NOT NULL REFERENCES roles(name),
  PRIMARY KEY (operator_id, role));
CREATE TABLE issuers(
  id      TEXT PRIMARY KEY,
  name    TEXT NOT NULL,
  account TEXT NOT NULL,
  brands  TEXT NOT NULL);
CREATE TABLE bin_ranges(
  first     TEXT NOT NULL,
  last      TEXT NOT NULL,
  issuer_id TEXT NOT NULL REFERENCES issuers(id) ON DELETE CASCADE,
  PRIMARY KEY (first, last));
)sql",
    // 3: a day-close (cash count) window is (last close of the terminal (register), head]. A
    // payment with an event in it has last_event_seq inside it too, so the two payments
    // indexes find the window's payments of one terminal (register) without scanning the
    // whole journal; events_subject gains the kind so that each payment's movements in the
    // window are read from the index alone (journal rows are large: body and two hashes).
    // payments_terminal_id keeps a terminal's payments in creation order: the newest receipt
    // number at start-up (receipt-number sync) is one backwards step, not a history scan.
    R"sql(
CREATE INDEX payments_terminal_id ON payments(terminal_id, id);
CREATE INDEX payments_terminal_seq ON payments(terminal_id, last_event_seq);
CREATE INDEX payments_register_seq ON payments(register_id, last_event_seq);
DROP INDEX events_subject;
CREATE INDEX events_subject ON events(subject, seq, kind);
)sql",
    // 4: the outbox of messages to upstream services (store and forward, ledger/outbox.hpp).
    R"sql(
CREATE TABLE outbox(
  id                  INTEGER PRIMARY KEY,
  idempotency_key     TEXT    NOT NULL UNIQUE,
  service             TEXT    NOT NULL,
  method              TEXT    NOT NULL,
  path                TEXT    NOT NULL,
  body                TEXT    NOT NULL,
  subject             TEXT    NOT NULL,
  state               TEXT    NOT NULL CHECK (state IN ('pending','delivered','dead')),
  attempts            INTEGER NOT NULL,
  created_utc_ms      INTEGER NOT NULL,
  next_attempt_utc_ms INTEGER NOT NULL,
  last_attempt_utc_ms INTEGER,
  last_error          TEXT    NOT NULL,
  reply               TEXT    NOT NULL,
  done_utc_ms         INTEGER,
  retried_utc_ms      INTEGER);
CREATE INDEX outbox_due ON outbox(state, next_attempt_utc_ms);
)sql",
    // 5: e-receipts (ledger/receipts.hpp): one receipt per sale (order), its document lines and
    // delivery; the terminal's customer slips until the receipt is made; remembered choices.
    // Documents and destinations are deleted after the retention (30 days); the row stays as
    // a tombstone so that an id is never reused and a late copy gets a clear refusal.
    R"sql(
CREATE TABLE receipts(
  id                   TEXT    PRIMARY KEY,
  order_id             TEXT    NOT NULL UNIQUE,
  register_id          TEXT    NOT NULL,
  customer_id          TEXT    NOT NULL,
  state                TEXT    NOT NULL CHECK (state IN ('open','final','deleted')),
  channel              TEXT    NOT NULL,
  destination          TEXT    NOT NULL,
  payment_id           INTEGER REFERENCES payments(id),
  lines                TEXT    NOT NULL,
  qr_shown             INTEGER NOT NULL,
  copies               INTEGER NOT NULL,
  opened_utc_ms        INTEGER NOT NULL,
  display_until_utc_ms INTEGER,
  final_utc_ms         INTEGER,
  delete_after_utc_ms  INTEGER NOT NULL,
  deleted_utc_ms       INTEGER);
CREATE INDEX receipts_retention ON receipts(state, delete_after_utc_ms);
CREATE TABLE receipt_slips(
  payment_id     INTEGER PRIMARY KEY REFERENCES payments(id),
  lines          TEXT    NOT NULL,
  created_utc_ms INTEGER NOT NULL);
CREATE TABLE receipt_choices(
  customer_id    TEXT PRIMARY KEY,
  channel        TEXT NOT NULL,
  destination    TEXT NOT NULL,
  updated_utc_ms INTEGER NOT NULL);
)sql",
}};

}  // namespace

int schema_version_impl() { return static_cast<int>(kMigrations.size()); }

int current_version(Db& db) {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
    return static_cast<int>(db.scalar("SELECT max(version) FROM schema_version").value_or(0));
}

Status migrate(Db& db, std::optional<int> target) {
    const int newest = schema_version_impl();
    const int want = target.value_or(newest);
    const int found = current_version(db);
    if (found > newest)
        return pb::unexpected(Error{Errc::schema_mismatch, "ledger schema: expected " + std::to_string(newest) +
                                                               ", found " + std::to_string(found)});
    for (int v = found + 1; v <= want && v <= newest; ++v) {
        Transaction tx(db);
        db.exec(kMigrations[static_cast<std::size_t>(v - 1)]);
        db.prepare("INSERT INTO schema_version(version) VALUES(?)").bind(1, std::int64_t{v}).run();
        tx.commit();
    }
    return {};
}

}  // namespace pb::ledger::detail
