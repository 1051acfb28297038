#pragma once
// Events on the PUB socket (protocol/erp/README.md, "Events"): two frames,
//   topic:   <type> "." <order id>     payment.*, interim.changed, receipt.delivered
//            <type> "." <terminal id>  terminal.online, terminal.offline, day_close.done
//   payload: {"v": 1, "type": ..., "seq": n, "time": "...Z", <body fields>}
// seq increases by one per published event, so a subscriber can see that it missed some
// (PUB drops for slow subscribers) and ask again with payment.get / order.get.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/core/expected.hpp"
#include "protocol/erp/error.hpp"
#include "protocol/erp/request.hpp"
#include "protocol/erp/view.hpp"

namespace pb::erp {

/// A terminal's intermediate status (ZVT 04 FF, [ZVT-CMD] §3.7 table 17) while it works.
struct PaymentProgress {
    std::string payment_id;
    std::string order_id;
    std::string terminal;
    std::uint8_t code = 0;  // ZVT intermediate status code, e.g. 0x0A "Insert card"
    std::string text;       // the terminal's display text or the code's standard text
    friend bool operator==(const PaymentProgress&, const PaymentProgress&) = default;
};

enum class ReceiptType : std::uint8_t { merchant, customer, administration };
std::string_view to_string(ReceiptType t);

/// A complete receipt printed by the terminal (ZVT 06 D1 lines / 06 D3 text blocks).
struct PaymentReceipt {
    std::string payment_id;
    std::string order_id;
    std::string terminal;
    ReceiptType receipt_type = ReceiptType::customer;
    std::vector<std::string> lines;
    friend bool operator==(const PaymentReceipt&, const PaymentReceipt&) = default;
};

/// Final outcome (state approved, declined, aborted, unknown, reversed or refunded).
struct PaymentResult {
    PaymentView payment;
    friend bool operator==(const PaymentResult&, const PaymentResult&) = default;
};
struct InterimChanged {
    InterimEntry entry;
    friend bool operator==(const InterimChanged&, const InterimChanged&) = default;
};
struct TerminalOnline {
    std::string terminal;
    std::string register_id;
    friend bool operator==(const TerminalOnline&, const TerminalOnline&) = default;
};
struct TerminalOffline {
    std::string terminal;
    std::string register_id;
    std::string reason;  // "connection refused", "T3 timeout", ...
    friend bool operator==(const TerminalOffline&, const TerminalOffline&) = default;
};
struct DayCloseDone {
    DayCloseResult result;
    friend bool operator==(const DayCloseDone&, const DayCloseDone&) = default;
};
/// Issue 7: an e-receipt was delivered (or finalised as QR after the no-choice timeout).
struct ReceiptDelivered {
    std::string payment_id;
    std::string order_id;
    ReceiptChannel channel = ReceiptChannel::qr;
    std::string url;  // qr and link deliveries
    friend bool operator==(const ReceiptDelivered&, const ReceiptDelivered&) = default;
};

using EventBody = std::variant<PaymentProgress, PaymentReceipt, PaymentResult, InterimChanged,
                               TerminalOnline, TerminalOffline, DayCloseDone, ReceiptDelivered>;
inline constexpr std::string_view kEventTypes[] = {
    "payment.progress", "payment.receipt",  "payment.result", "interim.changed",
    "terminal.online",  "terminal.offline", "day_close.done", "receipt.delivered",
};
std::string_view type_name(const EventBody& body);

struct Event {
    std::uint64_t seq = 0;
    std::string time;  // ISO 8601 UTC, supplied by the daemon (the codec has no clock)
    EventBody body;
    friend bool operator==(const Event&, const Event&) = default;
};

struct EncodedEvent {
    std::string topic;    // first frame
    std::string payload;  // second frame
};

/// "payment.result.O-4711", "terminal.offline.T1".
std::string topic_of(const EventBody& body);
EncodedEvent encode_event(const Event& e);
/// For C++ subscribers and tests: the payload frame. Unknown fields are ignored.
Expected<Event, ErpError> parse_event(std::string_view payload, const Limits& limits = {});

}  // namespace pb::erp
