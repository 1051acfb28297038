#pragma once
// ERP requests as typed values (protocol/erp/README.md, "Requests"). Every request travels as
// one JSON object {"v": 1, "id": "...", "type": "...", <fields>}; parse_request turns it into
// a Request or an ErpError naming the offending field. Pure: no I/O, no clock, no state.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "protocol/core/expected.hpp"
#include "protocol/core/money.hpp"
#include "protocol/erp/error.hpp"

namespace pb::erp {

inline constexpr std::int64_t kProtocolVersion = 1;
/// ZVT carries amounts as 6 bytes of packed BCD (PA00P015 BMP 04): 12 decimal digits.
inline constexpr std::int64_t kMaxAmountMinor = 999'999'999'999;

struct Limits {
    std::size_t max_bytes = 64 * 1024;  // whole message, before parsing
    std::size_t max_depth = 16;         // JSON nesting
    std::size_t max_lines = 500;        // order lines per request
    std::size_t max_id_length = 64;     // ids, keys, codes
    std::size_t max_text_length = 256;  // line texts, reasons, notes
};

/// One order line. `amount` is the line total in minor units: given by the ERP (discounts,
/// rounding of its own) or, when absent, qty * unit_price, which must then be whole.
struct Line {
    std::string sku;                // optional
    std::string text;               // required
    std::int64_t qty_milli = 1000;  // quantity in thousandths (1.5 h labour = 1500)
    std::int64_t unit_price = 0;    // minor units, may be negative (discount line)
    std::int64_t amount = 0;        // minor units
    std::string category;           // optional; commitment cards check it (issue 7)
    friend bool operator==(const Line&, const Line&) = default;
};

enum class Tender : std::uint8_t { card };
enum class Resolution : std::uint8_t { paid_otherwise, retried, reversed, written_off };
enum class InterimState : std::uint8_t { open, resolved, all };
enum class ReceiptChannel : std::uint8_t { print, sms, email, waste_basket, qr };

/// A payment named by the daemon's id or by the ERP's request key; exactly one is set.
struct PaymentRef {
    std::string payment_id;
    std::string request_key;
    friend bool operator==(const PaymentRef&, const PaymentRef&) = default;
};

struct Hello {
    std::string client;          // optional, e.g. "workshop-erp"
    std::string client_version;  // optional
    friend bool operator==(const Hello&, const Hello&) = default;
};
struct Ping {
    friend bool operator==(const Ping&, const Ping&) = default;
};
struct PaymentStart {
    std::string order_id;
    std::string request_key;
    std::vector<Line> lines;  // optional; when present their amounts sum to total
    Money total;
    std::string register_id;
    std::string terminal;
    std::string operator_id;
    std::string receptionist;  // optional signature of the service receptionist
    Tender tender = Tender::card;
    friend bool operator==(const PaymentStart&, const PaymentStart&) = default;
};
struct PaymentCancel {
    PaymentRef ref;
    std::string operator_id;  // optional
    friend bool operator==(const PaymentCancel&, const PaymentCancel&) = default;
};
struct PaymentGet {
    PaymentRef ref;
    friend bool operator==(const PaymentGet&, const PaymentGet&) = default;
};
struct OrderGet {
    std::string order_id;
    friend bool operator==(const OrderGet&, const OrderGet&) = default;
};
struct CashRecord {
    std::string order_id;
    std::string request_key;
    Money amount;
    std::string register_id;
    std::string operator_id;
    std::string receptionist;  // optional
    friend bool operator==(const CashRecord&, const CashRecord&) = default;
};
struct PaymentRefund {
    std::string payment_id;  // the approved payment to refund
    std::string request_key;
    bool partial = false;    // amount given; otherwise the whole remaining amount
    Money amount;            // valid when partial
    std::string terminal;    // optional: default the original payment's terminal
    std::string register_id; // optional: default the original payment's register
    std::string operator_id;
    std::string reason;      // optional
    friend bool operator==(const PaymentRefund&, const PaymentRefund&) = default;
};
struct PaymentReverse {
    std::string payment_id;
    std::string operator_id;
    std::string reason;  // optional
    friend bool operator==(const PaymentReverse&, const PaymentReverse&) = default;
};
struct InterimList {
    std::string register_id;  // optional filter
    std::string terminal;     // optional filter
    InterimState state = InterimState::open;
    friend bool operator==(const InterimList&, const InterimList&) = default;
};
struct InterimResolve {
    std::string entry_id;
    Resolution resolution = Resolution::paid_otherwise;
    std::string operator_id;
    std::string reason;     // required, free text for the audit trail
    std::string reference;  // optional: e.g. the payment id that paid it otherwise
    friend bool operator==(const InterimResolve&, const InterimResolve&) = default;
};
struct TerminalStatus {
    std::string terminal;  // empty: all terminals
    friend bool operator==(const TerminalStatus&, const TerminalStatus&) = default;
};
struct DayCloseRun {
    std::string terminal;     // exactly one of terminal / register_id
    std::string register_id;
    std::string operator_id;
    friend bool operator==(const DayCloseRun&, const DayCloseRun&) = default;
};
struct CashReconcile {
    std::string register_id;
    Money counted;  // zero allowed: an empty drawer is a valid count
    std::string operator_id;
    std::string note;  // optional
    friend bool operator==(const CashReconcile&, const CashReconcile&) = default;
};

// --- Arriving with issue 7 (upstream flows); parsed now, answered not_supported until then.
struct CommitmentCheck {
    std::string order_id;
    std::string card_id;  // scanned commitment card id
    std::vector<Line> lines;  // required, non-empty: categories are checked per line
    Money total;
    std::string register_id;
    friend bool operator==(const CommitmentCheck&, const CommitmentCheck&) = default;
};
struct CommitmentPay {
    std::string order_id;
    std::string request_key;
    std::string card_id;
    std::vector<Line> lines;  // required: receipt line data goes to the service's invoice
    Money amount;             // the part paid by the commitment (sum of allowed lines)
    std::string register_id;
    std::string operator_id;
    std::string receptionist;
    friend bool operator==(const CommitmentPay&, const CommitmentPay&) = default;
};
struct ReceiptDeliver {
    std::string payment_id;
    ReceiptChannel channel = ReceiptChannel::print;
    std::string phone;        // sms
    std::string email;        // email
    std::string customer_id;  // optional: remember the choice for this customer
    bool remember = false;
    friend bool operator==(const ReceiptDeliver&, const ReceiptDeliver&) = default;
};
/// The sale's first line (e-receipts, issue 7): reserve the receipt's QR URL for the customer
/// display. The same order again returns the same receipt.
struct ReceiptStart {
    std::string order_id;
    std::string register_id;
    std::string customer_id;  // optional: the remembered choice comes back as a suggestion
    friend bool operator==(const ReceiptStart&, const ReceiptStart&) = default;
};
struct ReceiptCopy {
    std::string payment_id;
    ReceiptChannel channel = ReceiptChannel::print;  // print, sms or email only
    std::string phone;
    std::string email;
    std::string operator_id;
    friend bool operator==(const ReceiptCopy&, const ReceiptCopy&) = default;
};
/// The terminal reads a commitment card (ZVT Read Card) instead of a scanner.
struct CardRead {
    std::string terminal;
    friend bool operator==(const CardRead&, const CardRead&) = default;
};
struct BenefitVerify {
    std::string order_id;
    std::string voucher;
    friend bool operator==(const BenefitVerify&, const BenefitVerify&) = default;
};
struct BenefitRedeem {
    std::string order_id;
    std::string request_key;
    std::string voucher;
    Money amount;  // the voucher part; a difference is paid with payment.start
    std::string register_id;
    std::string operator_id;
    std::string receptionist;
    std::int64_t total = 0;  // optional: the order's price (same currency), 0 = not given
    friend bool operator==(const BenefitRedeem&, const BenefitRedeem&) = default;
};

using RequestBody =
    std::variant<Hello, Ping, PaymentStart, PaymentCancel, PaymentGet, OrderGet, CashRecord,
                 PaymentRefund, PaymentReverse, InterimList, InterimResolve, TerminalStatus,
                 DayCloseRun, CashReconcile, CommitmentCheck, CommitmentPay, ReceiptDeliver,
                 ReceiptCopy, BenefitVerify, BenefitRedeem, CardRead, ReceiptStart>;

struct Request {
    std::string id;  // client correlation id, echoed in the reply
    RequestBody body;
    friend bool operator==(const Request&, const Request&) = default;
};

/// "payment.start" etc., in RequestBody's order.
std::string_view type_name(const RequestBody& body);
inline constexpr std::string_view kRequestTypes[] = {
    "hello",          "ping",           "payment.start",    "payment.cancel", "payment.get",
    "order.get",      "cash.record",    "payment.refund",   "payment.reverse", "interim.list",
    "interim.resolve", "terminal.status", "day_close.run",  "cash.reconcile", "commitment.check",
    "commitment.pay", "receipt.deliver", "receipt.copy",    "benefit.verify", "benefit.redeem",
    "card.read",
    "receipt.start",
};
/// True for the types that arrive with issue 7.
bool is_upstream_type(std::string_view type);

std::string_view to_string(Tender t);
std::string_view to_string(Resolution r);
std::string_view to_string(InterimState s);
std::string_view to_string(ReceiptChannel c);

/// Parses and validates one request. On error nothing else happened (pure); the error names
/// the field by JSON pointer and carries the id/type if they could be read.
Expected<Request, ErpError> parse_request(std::string_view raw, const Limits& limits = {});

/// The canonical JSON of a request (what a client sends); parse_request(encode) == request.
boost::json::object to_json(const Request& r);
std::string encode_request(const Request& r);

}  // namespace pb::erp
