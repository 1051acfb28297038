#pragma once
// The ledger: the durable payment journal finance trusts (issue 4, design.md §4-§5).
//
// What it promises:
//  - Every change is an event appended to ONE hash-chained journal (SHA-256 over the previous
//    event's hash and this event's fields); the current state of payments, operators and
//    issuers is derived from those events and kept in tables updated in the same transaction.
//  - A write is reported done only after its transaction is durable (SQLite WAL,
//    synchronous=FULL). Writes run on one writer thread that batches whatever is queued into
//    one transaction (group commit); each unit of work runs in its own savepoint, so one that
//    fails is rolled back alone and the rest of the batch commits.
//  - Payment states and transitions are exactly design.md §4; anything else is refused with
//    Errc::invalid_transition and changes nothing.
//  - No full card number is ever stored: the only PAN type here is pb::MaskedPan.
//
// Threads: Ledger is thread-safe. `submit` may be called from any thread (the daemon's event
// loop); completions run on the writer thread and should only post back to the caller's loop.
// Reads (`reader()`) run on the calling thread on a separate connection and see committed data.

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/core/card.hpp"
#include "protocol/core/expected.hpp"
#include "protocol/core/money.hpp"

namespace pb::ledger {

// ---------------------------------------------------------------------------------------------
// Errors

enum class Errc : std::uint8_t {
    not_found,           // no such payment / operator / issuer
    invalid_transition,  // state machine (design.md §4) does not allow it
    order_busy,          // another payment of the order is requested, sent or unknown
    terminal_busy,       // another payment on the terminal is already sent
    key_conflict,        // request key reused with a different order/amount/tender
    permission_denied,   // operator lacks the right
    invalid_argument,    // malformed input (empty ids, bad date, negative amount, ...)
    schema_mismatch,     // database schema newer than this build: "expected N, found M"
    storage,             // SQLite failed (I/O, disk full, corrupt); the work was not committed
    closed,              // the ledger is shutting down; the work was not run
};

std::string_view errc_id(Errc e);

struct Error {
    Errc code = Errc::storage;
    std::string message;  // human-readable, names the ids involved
};

template <class T>
using Result = pb::Expected<T, Error>;
using Status = pb::Expected<void, Error>;

// ---------------------------------------------------------------------------------------------
// Value types

/// Ledger-assigned payment id (1, 2, ...; never reused).
struct PaymentId {
    std::int64_t value = 0;
    friend auto operator<=>(const PaymentId&, const PaymentId&) = default;
};

/// design.md §4. Final states: declined, reversed, refunded, rejected, resolved.
enum class PaymentState : std::uint8_t {
    requested,  // intent recorded, nothing sent to the terminal yet
    sent,       // durable before the first byte of the authorisation reaches the terminal
    approved,
    declined,
    aborted,    // cashier/customer/terminal abort -> interim
    unknown,    // link or daemon lost between send and outcome -> recovery, then interim
    reversed,   // an approved payment reversed on the terminal
    refunded,   // an approved payment refunded
    rejected,   // refused before anything was sent (validation, permission, terminal busy)
    resolved,   // an interim payment closed by a permitted person
};
std::string_view state_id(PaymentState s);  // "requested", "sent", ...
std::optional<PaymentState> state_from_id(std::string_view id);
/// The transition table of design.md §4:
///   requested -> sent | rejected
///   sent      -> approved | declined | aborted | unknown
///   unknown   -> approved | declined | aborted | resolved   (recovery, or a person)
///   aborted   -> resolved
///   approved  -> reversed | refunded
bool transition_allowed(PaymentState from, PaymentState to);
/// In the interim account: aborted or unknown, until resolved.
bool is_interim(PaymentState s);

enum class Tender : std::uint8_t { card, cash, commitment_card, benefit_voucher };
std::string_view tender_id(Tender t);  // "card", "cash", "commitment_card", "benefit_voucher"
std::optional<Tender> tender_from_id(std::string_view id);

/// What the ERP asked for, plus where and by whom. All ids are non-empty except receptionist.
struct PaymentRequest {
    std::string order_id;
    std::string request_key;   // the ERP's own key (order id + attempt): idempotency
    Money amount;              // minor > 0
    Tender tender = Tender::card;
    std::string register_id;
    std::string terminal_id;   // our configured terminal name (empty for cash)
    std::string operator_id;
    std::string receptionist;  // service receptionist's signature, whatever register is used
    std::string business_date; // local date of business, "YYYY-MM-DD"
};

/// What the terminal reported with a result (ZVT 04 0F Status-Information BMPs) or with a
/// reversal/refund. Fields the terminal did not send stay empty.
struct TerminalData {
    CardBrand brand = CardBrand::unknown;  // from the terminal's card-type id (BMP 8A / TLV)
    MaskedPan pan;                         // BMP 22, masked; never a full PAN
    std::optional<std::uint32_t> trace;    // BMP 0B trace number
    std::optional<std::uint32_t> receipt_no;  // BMP 87
    std::string approval_code;             // BMP 3B AID / authorisation attribute
    std::string terminal_tid;              // BMP 29 terminal id (TID) as reported
    std::optional<std::uint8_t> result_code;  // BMP 27 (00 = success)
    std::string text;                      // reason for abort/unknown, error text
};

/// An interim payment's resolution.
enum class ResolutionKind : std::uint8_t { paid_otherwise, retried, reversed, written_off };
std::string_view resolution_id(ResolutionKind k);
std::optional<ResolutionKind> resolution_from_id(std::string_view id);

struct Resolution {
    ResolutionKind how = ResolutionKind::written_off;
    std::string operator_id;  // who: must have Right::resolve_interim
    std::string why;          // free text, required
};

/// Current state of one payment, derived from its events.
struct Payment {
    PaymentId id;
    PaymentRequest request;
    PaymentState state = PaymentState::requested;
    TerminalData terminal;         // from the last result / reversal / refund
    std::string issuer_id;         // resolved on a card result ("" if none matched)
    std::string reason;            // last abort/unknown/reject reason
    std::optional<Resolution> resolution;
    std::int64_t created_utc_ms = 0;
    std::int64_t updated_utc_ms = 0;
    std::int64_t last_event_seq = 0;
};

/// begin_payment's answer: the payment, and whether this call created it (false = the same
/// request key was seen before and this is that payment, unchanged).
struct Begun {
    Payment payment;
    bool created = false;
};

/// History filter; unset fields do not filter. Dates are inclusive business dates.
struct HistoryFilter {
    std::optional<std::string> date_from, date_to;
    std::optional<std::string> order_id, register_id, terminal_id, operator_id, issuer_id;
    std::optional<PaymentState> state;
    std::optional<Tender> tender;
    std::optional<PaymentId> after;  // keyset paging: ids greater than this
    std::size_t limit = 1000;
};

/// Rights the daemon and the CLI check with Reader::may.
enum class Right : std::uint8_t {
    take_card,
    take_cash,
    refund,
    resolve_interim,
    close_day,
    export_data,
    administer,
};
std::string_view right_id(Right r);  // "take_card", ..., "export", "administer"
std::optional<Right> right_from_id(std::string_view id);

struct Role {
    std::string name;
    std::vector<Right> rights;
};

struct Operator {
    std::string id;    // login / badge id the ERP sends
    std::string name;
    std::vector<std::string> roles;
    bool active = true;
};

/// A card issuer as finance sees it (Visa, Mastercard, Diners, Amex, an own card), with the
/// accounting account its takings are booked to.
struct Issuer {
    std::string id;       // "visa", "own_volvo", ...
    std::string name;
    std::string account;  // accounting account, e.g. BAS "1580"
    std::vector<CardBrand> brands;  // terminal card brands that mean this issuer
};

/// A BIN (IIN) range: PANs whose leading digits lie in [first, last] (both of the same
/// length, compared digit-wise on that many leading digits) belong to `issuer_id`.
/// The most specific match wins: longest prefix, then narrowest range. A BIN match beats the
/// terminal's brand (that is how own cards on a Mastercard rail are recognised).
struct BinRange {
    std::string first;
    std::string last;
    std::string issuer_id;
};

struct IssuerConfig {
    std::vector<Issuer> issuers;
    std::vector<BinRange> bin_ranges;
};
/// Visa, Mastercard, Diners Club, American Express on account 1580 (the seed's presets).
IssuerConfig default_issuers();

/// One journal entry as stored (for audit display and extensions).
struct Event {
    std::int64_t seq = 0;
    std::string kind;     // "payment.sent", "operator.put", ...
    std::string subject;  // payment id, operator id, ...
    std::int64_t at_utc_ms = 0;
    std::string body;     // canonical JSON
    std::string hash_hex;
};

struct VerifyReport {
    bool ok = true;
    std::int64_t events_checked = 0;
    std::optional<std::int64_t> first_bad_seq;  // the first event that does not check out
    std::string problem;                        // what is wrong with it
};

// ---------------------------------------------------------------------------------------------
// Queries and commands

namespace detail {
class Store;
}

/// Queries. Also available inside a write (Tx), where they see the transaction's own writes.
class Reader {
public:
    Result<Payment> payment(PaymentId id) const;
    Result<Payment> by_request_key(std::string_view request_key) const;
    /// Every payment of the order, oldest first.
    Result<std::vector<Payment>> by_order(std::string_view order_id) const;
    /// Every payment on `terminal_id` that must be settled before the terminal takes new
    /// work after a restart: `sent` and `unknown` (ask the terminal), and `requested` (never
    /// sent: reject it). Oldest first.
    Result<std::vector<Payment>> pending_recovery(std::string_view terminal_id) const;
    /// The receipt number of the newest payment (by creation) of `terminal_id` that has one;
    /// nullopt when none has. One index step whatever the ledger's size.
    Result<std::optional<std::int64_t>> last_receipt_no(std::string_view terminal_id) const;
    /// The interim account: every aborted or unknown payment, oldest first (age = now - created).
    Result<std::vector<Payment>> interim() const;
    Result<std::vector<Payment>> history(const HistoryFilter& filter) const;
    Result<std::vector<Event>> events_of(PaymentId id) const;
    /// The newest event of any kind about `subject` (e.g. "terminal:T1"); nullopt if none.
    /// One index lookup (events_subject).
    Result<std::optional<Event>> last_event(std::string_view subject) const;
    /// The newest event of `kind` about `subject` with seq < `before_seq`; nullopt if none.
    Result<std::optional<Event>> last_event(std::string_view subject, std::string_view kind,
                                            std::int64_t before_seq) const;

    /// True iff the operator exists, is active and one of its roles grants `right`.
    bool may(std::string_view operator_id, Right right) const;
    Result<Operator> get_operator(std::string_view id) const;
    Result<std::vector<Operator>> operators() const;
    Result<std::vector<Role>> roles() const;

    Result<IssuerConfig> issuers() const;
    /// BIN range first (most specific wins), then the terminal's brand; not_found if neither.
    Result<Issuer> resolve_issuer(CardBrand brand, const MaskedPan& pan) const;

    /// Walks the whole chain: recomputes every hash, checks each event links to the one before
    /// and that sequence numbers have no gaps, checks the stored chain head, and replays the
    /// payment events against the current-state table. Names the first bad event.
    Result<VerifyReport> verify() const;

protected:
    explicit Reader(detail::Store& s) : s_(&s) {}
    detail::Store* s_;
    friend class Ledger;
};

/// One unit of work inside a write transaction (runs on the writer thread, inside its own
/// savepoint). Every command validates first and changes nothing when it fails.
class Tx : public Reader {
public:
    /// Records intent. Same request key again: the existing payment, created=false (or
    /// key_conflict if order/amount/tender differ). order_busy if another payment of the order
    /// is requested, sent or unknown. permission_denied if the operator may not take this
    /// tender (take_card / take_cash) -- the caller may then record nothing, or retry.
    Result<Begun> begin_payment(const PaymentRequest& request);
    /// requested -> sent. terminal_busy if another payment on the same terminal is `sent`.
    Result<Payment> mark_sent(PaymentId id);
    /// begin_payment and, for a new payment, mark_sent in the same unit: `sent` is durable
    /// before anything leaves (design.md §4). An existing request key: that payment, unchanged.
    Result<Begun> begin_and_mark_sent(const PaymentRequest& request);
    /// sent|unknown -> approved|declined|aborted|unknown (the terminal's outcome, or recovery's).
    /// On approved card payments the issuer is resolved from brand and masked PAN.
    Result<Payment> record_result(PaymentId id, PaymentState outcome, const TerminalData& data);
    /// sent -> unknown (link or daemon lost between send and outcome). `why` is kept as reason.
    Result<Payment> mark_unknown(PaymentId id, std::string_view why);
    /// requested -> rejected (validation, permission, terminal busy: nothing was sent).
    Result<Payment> reject(PaymentId id, std::string_view why);
    /// approved -> reversed / refunded. `operator_id` needs Right::refund.
    Result<Payment> mark_reversed(PaymentId id, std::string_view operator_id, const TerminalData& data);
    Result<Payment> mark_refunded(PaymentId id, std::string_view operator_id, const TerminalData& data);
    /// aborted|unknown -> resolved. The operator needs Right::resolve_interim; `why` non-empty.
    Result<Payment> resolve(PaymentId id, const Resolution& resolution);

    /// Operators and roles. `actor` needs Right::administer -- except while no active operator
    /// holds administer (bootstrap of an empty ledger). Each change is journaled with the actor.
    Status put_role(std::string_view actor, const Role& role);
    Status put_operator(std::string_view actor, const Operator& op);

    /// Replaces the issuer configuration (from the daemon's config); journaled when it changes.
    Status set_issuers(const IssuerConfig& config);

    /// Extension point for ledger-internal features (day-close, cash counts, settlements):
    /// appends an event to the same chain. `body` must be a JSON object text.
    Result<std::int64_t> append_event(std::string_view kind, std::string_view subject,
                                      std::string_view body);
    /// Current UTC time from the ledger's injected clock.
    std::int64_t now_utc_ms() const;

    /// The store behind this transaction, for ledger-internal extensions (ledger/*.cpp only).
    detail::Store& store() { return *s_; }

private:
    using Reader::Reader;
    friend class Ledger;
};

// ---------------------------------------------------------------------------------------------
// The ledger

enum class Storage : std::uint8_t {
    file,       // `path`, durable
    temporary,  // a fresh file in $TMPDIR (or `path` as directory), deleted on close
    memory,     // SQLite in-memory: same contract, no durability (tests)
};

struct Options {
    Storage storage = Storage::file;
    std::string path;
    /// UTC milliseconds since the epoch; injected so tests control time.
    std::function<std::int64_t()> clock;
    /// Most units of work one group commit takes.
    std::size_t max_batch = 512;
    /// Tests only: migrate to this version instead of the newest.
    std::optional<int> target_schema;
};

/// The newest schema version this build knows.
int schema_version();

class Ledger {
public:
    /// Opens (creating if needed) and migrates forward. schema_mismatch with
    /// "expected N, found M" if the file's schema is newer than this build.
    static Result<std::unique_ptr<Ledger>> open(Options options);
    ~Ledger();  // drains queued work, stops the writer thread
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    template <class T>
    using Work = std::function<Result<T>(Tx&)>;
    template <class T>
    using Completion = std::function<void(Result<T>)>;

    /// Queues `work` for the writer thread. `done` runs on the writer thread once the batch
    /// holding it is durable (with work's result), or with Errc::storage if the commit failed
    /// (then nothing of it is stored), or Errc::closed if the ledger is closing.
    template <class T>
    void submit(Work<T> work, Completion<T> done);
    /// Same, completed through a future.
    template <class T>
    std::future<Result<T>> submit(Work<T> work);
    /// Same, blocking (tools, tests).
    template <class T>
    Result<T> run(Work<T> work) { return submit<T>(std::move(work)).get(); }

    /// A read view on the calling thread; holds the read connection for the full expression:
    /// `ledger.reader()->payment(id)`.
    class ReadView {
    public:
        const Reader* operator->() const { return reader_; }
        const Reader& operator*() const { return *reader_; }
    private:
        friend class Ledger;
        ReadView(std::unique_lock<std::mutex> lock, const Reader* r) : lock_(std::move(lock)), reader_(r) {}
        std::unique_lock<std::mutex> lock_;
        const Reader* reader_;
    };
    ReadView reader() const;

    /// Schema version of the open database.
    int schema() const;
    const std::string& path() const;

    struct Impl;

private:
    explicit Ledger(std::unique_ptr<Impl> impl);
    /// Type-erased queue entry: `run` executes inside a savepoint and returns whether to keep
    /// it; `finish` is called after the batch, with the commit error if any.
    void enqueue(std::function<bool(Tx&)> run, std::function<void(const Error*)> finish);
    std::unique_ptr<Impl> impl_;
};

template <class T>
void Ledger::submit(Work<T> work, Completion<T> done) {
    auto result = std::make_shared<std::optional<Result<T>>>();
    enqueue(
        [work = std::move(work), result](Tx& tx) {
            try {
                result->emplace(work(tx));
            } catch (const std::exception& e) {  // a bug in the work: roll it back, report it
                result->emplace(pb::unexpected(Error{Errc::storage, e.what()}));
            }
            return result->value().has_value();
        },
        [done = std::move(done), result](const Error* failed) {
            if (failed)
                done(pb::unexpected(*failed));
            else
                done(std::move(**result));
        });
}

template <class T>
std::future<Result<T>> Ledger::submit(Work<T> work) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    submit<T>(std::move(work), [promise](Result<T> r) { promise->set_value(std::move(r)); });
    return future;
}

}  // namespace pb::ledger
