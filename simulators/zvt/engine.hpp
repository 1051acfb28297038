#pragma once
// The simulated payment terminal (PT) as a pure state machine: decoded ECR messages, link
// events and the passing of time go in; messages to send, journal records, state saves, link
// closes and crashes come out. No sockets, files or clocks: time is a value (design.md §3).
//
// The PT follows PA00P015 (cited as [ZVT-CMD]): it answers each ECR command with 80 00 and
// then, as master, sends 04 FF / 04 0F / 06 D1 / 06 D3 / 06 0F / 06 1E, waiting for the ECR's
// answer to each before the next. The ECR's answer to the Status-Information (and to every
// print message when the ECR prints) is the moment of truth (§2.2.8, §2.2.9).

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "protocol/zvt/message.hpp"
#include "simulators/zvt/faults.hpp"
#include "simulators/zvt/scenario.hpp"

namespace pb::sim {

/// Local wall-clock time, as the terminal would print it.
struct LocalTime {
    int year = 2024, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};
/// "Now", passed in with every event. `mono` is any monotonic time base.
struct Now {
    std::chrono::milliseconds mono{0};
    LocalTime wall;
};

enum class TxKind : std::uint8_t { payment, refund, reversal, pre_auth, book_total, pre_auth_reversal };
std::string_view tx_kind_name(TxKind k);
std::optional<TxKind> tx_kind_from_name(std::string_view name);

/// One entry of the terminal's turnover storage (the open batch).
struct TxRecord {
    TxKind kind = TxKind::payment;
    std::int64_t amount = 0;  // minor units
    std::uint16_t receipt = 0;
    std::uint32_t trace = 0;
    std::uint32_t turnover = 0;
    CardBrand brand = CardBrand::unknown;
    std::string masked_pan;
    std::optional<std::uint16_t> ref_receipt;  // reversal / book total / pre-auth reversal
    bool reversed = false;      // payment, book total: reversed; pre-auth: booked or released
    bool sync_pending = false;  // receipt-number sync ([ZVT-CMD] ch. 4): ECR ack not received
};

/// What survives a restart of the terminal (the state file).
struct PersistentState {
    std::uint32_t trace = 0;     // last used trace number
    std::uint16_t receipt = 0;   // last used receipt number
    std::uint32_t turnover = 0;  // last used turnover record number
    std::vector<TxRecord> batch;
    std::optional<zvt::Message> last_status_info;  // for Repeat Receipt (§2.20)
    /// False between sending an approving Status-Information and the ECR's acknowledgement
    /// (the moment of truth, [ZVT-CMD] §2.2.8): a restart in that window finds it false.
    bool last_status_committed = true;
};

// Actions, executed by the shell in order.
struct Send {
    zvt::Message message;
};
struct Journal {
    boost::json::object record;  // the shell adds "seq" and "time"
};
struct SaveState {};
struct CloseLink {
    std::string reason;
};
struct Crash {
    FaultPoint point;
};
struct Log {
    std::string text;
};
using Action = std::variant<Send, Journal, SaveState, CloseLink, Crash, Log>;
using Actions = std::vector<Action>;

class Engine {
public:
    Engine(Scenario scenario, PersistentState state);

    /// A message from the ECR (already decoded).
    Actions on_message(const zvt::Message& m, const Now& now);
    /// The ECR's bytes could not be decoded: [ZVT-CMD] ch. 13 (unknown BMP -> 84 83),
    /// otherwise 84 9A (protocol error).
    Actions on_decode_error(bool unknown_bmp, const Now& now);
    /// The link is gone (socket closed, serial transmission error after repeats).
    Actions on_link_lost(const Now& now);
    /// Call when next_deadline() has passed.
    Actions on_timer(const Now& now);
    std::optional<std::chrono::milliseconds> next_deadline() const { return deadline_; }

    /// After a restart ("power-up"): a transaction whose Status-Information went out but was
    /// never acknowledged is auto-reversed ([ZVT-CMD] §2.2.8), so Repeat Receipt reports
    /// the reversal, not an approval the journal never stored.
    Actions power_up();

    /// Run-time fault control; changes are journaled.
    Actions set_fault(std::string_view spec);
    Actions clear_fault(std::string_view name);
    /// The card the next Read Cards find (track 2, '' = none); journaled.
    Actions set_read_card(std::string_view track2);
    FaultSet& faults() { return scenario_.faults; }
    const Scenario& scenario() const { return scenario_; }
    const PersistentState& state() const { return state_; }

    bool busy() const { return !steps_.empty() || awaiting_ack_; }
    bool registered() const { return registered_; }
    std::uint8_t config_byte() const { return config_byte_; }
    /// Terminal status as reported to 05 01 ([ZVT-CMD] ch. 11).
    std::uint8_t terminal_status() const;
    std::string_view phase_name() const;

private:
    enum class Role : std::uint8_t { plain, status_info, print, completion, abort };
    // One step of the PT's plan while it is master.
    struct Step {
        enum class Kind : std::uint8_t { send, wait, abort, host, commit, finish };
        Kind kind = Kind::finish;
        zvt::Message message;                 // send
        Role role = Role::plain;              // send
        std::chrono::milliseconds duration{}; // wait
        std::uint8_t result_code = 0;         // abort

        static Step of(Kind k) {
            Step s;
            s.kind = k;
            return s;
        }
        static Step send_of(zvt::Message m, Role r) {
            Step s = of(Kind::send);
            s.message = std::move(m);
            s.role = r;
            return s;
        }
        static Step wait_of(std::chrono::milliseconds d) {
            Step s = of(Kind::wait);
            s.duration = d;
            return s;
        }
        static Step abort_of(std::uint8_t rc) {
            Step s = of(Kind::abort);
            s.result_code = rc;
            return s;
        }
    };
    // The transaction being processed.
    struct Tx {
        zvt::Command command = zvt::Command::unknown;
        TxKind kind = TxKind::payment;
        std::int64_t amount = 0;
        bool currency_given = false;
        AmountRule rule;
        Card card;
        std::optional<std::uint16_t> ref_receipt;
        bool sync_mode = false;    // the command carried TLV 1F1F
        bool approved = false;     // 04 0F said 00
        bool result_sent = false;  // 04 0F sent
        bool committed = false;
        bool financial = true;     // false: EOD, diagnosis, repeat receipt, status, registration
        bool eod = false;
        zvt::Message status_info;
        TxRecord record;
        int repeats_left = 0;  // 84 9C repeats
    };

    Actions start(const zvt::Message& m, const Now& now);
    void start_payment_like(const zvt::Message& m, TxKind kind, Actions& out);
    void start_reference(const zvt::Message& m, TxKind kind, Actions& out);
    void start_end_of_day(Actions& out);
    void start_read_card(const zvt::Message& m, Actions& out);
    void start_repeat_receipt(const zvt::Message& m, Actions& out);
    void run(const Now& now, Actions& out);
    void host_decision(const Now& now, Actions& out);
    void commit(const Now& now, Actions& out);
    void reverse_uncommitted(std::string_view why, bool link_up, const Now& now, Actions& out);
    void abort_tx(std::uint8_t result_code, std::string_view why, bool link_up, Actions& out);
    void ack_timeout(const Now& now, Actions& out);
    void refuse(std::uint8_t result_code, std::string_view why, Actions& out);
    void on_ack(const zvt::Message& m, const Now& now, Actions& out);
    void resync(const zvt::Message& m, Actions& out);
    void finish(Actions& out);
    bool ecr_prints_payment() const;
    bool ecr_prints_admin() const;
    bool wants_intermediate() const;
    bool uses_text_block() const;
    void queue_send(zvt::Message m, Role role = Role::plain);
    void queue_intermediate(std::uint8_t status);
    void queue_receipts(const std::vector<std::string>& lines, bool admin);
    std::vector<std::string> receipt_lines(const zvt::Message& si, std::string_view title,
                                           std::string_view copy) const;
    std::vector<std::string> eod_lines(const zvt::Message& si) const;
    std::uint32_t next_trace();
    std::uint16_t next_receipt();
    boost::json::object tx_json(std::string_view event) const;
    void journal_fault(std::string_view name, Actions& out, std::string_view detail = {});

    Scenario scenario_;
    PersistentState state_;
    bool registered_ = false;
    std::uint8_t config_byte_ = 0x86;  // [ZVT-CMD] §2.24: value after Log-Off
    std::vector<std::uint16_t> permitted_;  // TLV 26 of the Registration
    bool card_left_in_reader_ = false;

    std::deque<Step> steps_;
    std::optional<Tx> tx_;
    bool awaiting_ack_ = false;
    Role awaiting_role_ = Role::plain;
    zvt::Message awaiting_message_;
    bool cancellable_ = false;  // 06 B0 still possible (before the host decision)
    std::optional<std::chrono::milliseconds> deadline_;
};

/// Bucket of BMP 60 a brand's turnover falls into ([ZVT-CMD] §3.1.3).
zvt::EodTotals::Bucket& eod_bucket(zvt::EodTotals& totals, CardBrand brand);

}  // namespace pb::sim
