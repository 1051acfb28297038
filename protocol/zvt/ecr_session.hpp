#pragma once
// The ECR side of one ZVT conversation, as a pure state machine (style.md point 6).
//
// The driver feeds it events (a request from the orchestration, an APDU from the terminal,
// a timer that expired, the link that was lost, the ledger saying a result is durable) and
// carries out the actions it returns (send an APDU, arm or cancel a timer, persist a result,
// tell the ERP about progress, receipts and the outcome). No I/O, no clock, no logging.
//
// The rule it exists for (PA00P015 §2.2.8, §2.2.9): the ECR's acknowledgement of an approving
// Status-Information (04 0F) is the moment of truth. So an approving 04 0F first produces
// PersistResult; only the ResultPersisted event lets the session send 80 00 00.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocol/zvt/message.hpp"

namespace pb::zvt {

/// What the orchestration asks the terminal to do. One at a time per terminal.
enum class Operation : std::uint8_t {
    registration,     // 06 00 (§2.1), after every connect
    authorisation,    // 06 01 (§2.2)
    refund,           // 06 31 (§2.15)
    reversal,         // 06 30 (§2.9), of `receipt_no`
    pre_authorisation,  // 06 22 (§2.8)
    book_total,       // 06 24 (§2.11), of `receipt_no` / `trace`
    end_of_day,       // 06 50 (§2.16)
    repeat_receipt,   // 06 20 (§2.20), service byte 01: re-send the last 04 0F
    status_enquiry,   // 05 01 (§2.56)
    diagnosis,        // 06 70 (§2.17)
    log_off,          // 06 02 (§2.24), no completion
    read_card,        // 06 C0 (§2.21): the PT reads a card for the ECR (our customer cards)
};
std::string_view operation_name(Operation op);

struct EcrConfig {
    std::uint32_t password = 0;      // 6 digits, sent as 3 byte BCD
    std::uint16_t currency = 978;    // ISO 4217 numeric (BMP 49)
    bool ecr_prints = false;         // config byte bit1/bit2 + print lines via 06 D1/06 D3
    bool receipt_sync = false;       // mirror TLV 1F1F (PA00P015 ch. 4)
    std::uint32_t t3_ms = 5000;      // PA00P016 §5.2.5: answer to a command
    std::uint32_t t4_ms = 180000;    // PA00P016 §5.2.6: PT's master phase, restarted by 04 FF / 04 0F
};

/// The registration config byte we send (§2.1 table 1): intermediate status wanted (bit3),
/// amount only from the ECR (bit4), admin only from the ECR (bit5), and the print bits when
/// the ECR prints.
std::uint8_t registration_config_byte(const EcrConfig& cfg);

struct OperationRequest {
    Operation op = Operation::status_enquiry;
    std::int64_t amount = 0;                     // minor units (authorisation, refund, pre-auth, book total)
    std::optional<std::uint16_t> receipt_no;     // reversal, book total
    std::optional<std::uint32_t> trace;          // book total
    std::optional<std::uint16_t> last_receipt;   // for receipt sync (1F1F); nullopt -> empty tag
    std::uint8_t card_timeout_s = 30;            // read card: how long the PT waits for a card
};

// ---- events ---------------------------------------------------------------------------
enum class Timer : std::uint8_t { t3, t4 };

struct StartRequested { OperationRequest request; };
struct AbortRequested {};                 // ERP/cashier cancel while the terminal waits
struct ApduReceived { Apdu apdu; };
struct TimerExpired { Timer timer; };
struct LinkLost {};
struct ResultPersisted {};                // the ledger made the last PersistResult durable
using EcrEvent = std::variant<StartRequested, AbortRequested, ApduReceived, TimerExpired, LinkLost,
                              ResultPersisted>;

// ---- actions --------------------------------------------------------------------------
struct SendApdu { Apdu apdu; };
struct ArmTimer { Timer timer; std::uint32_t ms; };
struct CancelTimer { Timer timer; };

/// Terminal progress for the ERP (04 FF, §3.7).
struct Progress { std::uint8_t code; std::string text; };
/// A receipt line or a whole text block (06 D1 / 06 D3).
struct ReceiptText { std::vector<std::string> lines; std::uint8_t receipt_type = 0; bool last = false; };

/// Everything the terminal told us about a transaction (04 0F).
struct TransactionData {
    std::uint8_t result_code = 0;
    std::optional<std::int64_t> amount;
    std::optional<std::uint16_t> currency;
    std::optional<std::uint32_t> trace;
    std::optional<std::uint16_t> receipt_no;
    std::optional<std::uint32_t> turnover_no;
    std::optional<std::uint32_t> tid;
    std::optional<std::uint8_t> card_type;
    std::optional<std::string> card_name;
    std::optional<std::string> masked_pan;
    std::optional<std::string> approval_code;   // BMP 3B
    std::optional<std::uint32_t> time_hhmmss;
    std::optional<std::uint16_t> date_mmdd;
    std::optional<EodTotals> totals;           // end of day
    std::optional<std::string> track2;         // read card only (digits, '=' separator)
    friend bool operator==(const TransactionData&, const TransactionData&) = default;
};

/// An approving result, or end-of-day totals, must be durable before we acknowledge it.
/// Answer with the ResultPersisted event. (A failed persist means: do not acknowledge;
/// feed LinkLost after closing the link, and the PT reverses per §2.2.8.)
struct PersistResult { Operation op; TransactionData data; };

enum class Outcome : std::uint8_t {
    approved,   // result acknowledged (commit point passed)
    declined,   // terminal or host said no (result code in data)
    aborted,    // 06 1E before any approving result (cashier, customer, timeout, ECR abort)
    rejected,   // 84 xx to the command itself: nothing started
    unknown,    // link or deadline lost between sending the command and the commit point
    done,       // non-financial operation completed (registration, status, diagnosis, ...)
};
std::string_view outcome_name(Outcome o);

struct Finished {
    Operation op;
    Outcome outcome;
    std::uint8_t result_code = 0;
    std::optional<TransactionData> data;          // the (last) 04 0F, if any
    std::optional<std::uint8_t> terminal_status;  // status enquiry / completion
    std::optional<std::uint32_t> tid;
    std::string reason;                           // human text for logs and the interim account
};
/// The link cannot be trusted any more (T3/T4 expiry, protocol violation): close it; the
/// driver reconnects and registers again.
struct CloseLink { std::string reason; };

using EcrAction = std::variant<SendApdu, ArmTimer, CancelTimer, Progress, ReceiptText,
                               PersistResult, Finished, CloseLink>;

class EcrSession {
public:
    explicit EcrSession(EcrConfig cfg) : cfg_(cfg) {}

    /// Feeds one event; returns the actions to carry out, in order.
    std::vector<EcrAction> step(const EcrEvent& event);

    bool idle() const { return phase_ == Phase::idle; }
    /// True once an approving 04 0F has been acknowledged in the current operation.
    bool committed() const { return committed_; }
    const EcrConfig& config() const { return cfg_; }

private:
    enum class Phase : std::uint8_t {
        idle,
        awaiting_ack,      // command sent, waiting for 80 00 / 84 xx within T3
        pt_master,         // PT sends 04 FF / 04 0F / 06 D1 / 06 D3 until 06 0F / 06 1E
        awaiting_persist,  // approving 04 0F held until ResultPersisted
    };

    void on_start(const OperationRequest& r, std::vector<EcrAction>& out);
    void on_apdu(const Apdu& a, std::vector<EcrAction>& out);
    void on_pt_message(const Message& m, std::vector<EcrAction>& out);
    void on_lost(std::string reason, std::vector<EcrAction>& out);
    void finish(Outcome o, std::string reason, std::vector<EcrAction>& out,
                std::optional<std::uint8_t> code = std::nullopt);
    void send(const Message& m, std::vector<EcrAction>& out);
    void send_abort(std::vector<EcrAction>& out);
    Message build_command(const OperationRequest& r) const;
    bool financial() const;

    EcrConfig cfg_;
    Phase phase_ = Phase::idle;
    OperationRequest req_;
    bool committed_ = false;
    bool abort_sent_ = false;
    bool abort_pending_ = false;
    std::optional<TransactionData> last_result_;
    std::optional<std::uint8_t> terminal_status_;
    std::optional<std::uint32_t> tid_;
};

/// Extracts the transaction data of a Status-Information.
TransactionData transaction_data(const Message& status_information);

}  // namespace pb::zvt
