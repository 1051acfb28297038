#pragma once
// The commitment service's messages (protocol/upstream/README.md §3): each one encodes to the
// JSON body the README shows and parses back with every field checked. The daemon encodes
// requests and parses replies; the simulator does the opposite with the same functions, and
// the README's examples keep both honest.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/core/money.hpp"
#include "protocol/upstream/wire.hpp"

namespace pb::upstream {

inline constexpr std::string_view kCheckPath = "/v1/commitments/check";
inline constexpr std::string_view kDebitPath = "/v1/commitments/debit";
inline constexpr std::string_view kReceiptPath = "/v1/commitments/receipts";
inline constexpr std::string_view kVoidPath = "/v1/commitments/void";
inline constexpr std::size_t kMaxLines = 500;

/// One order line as the commitment service sees it: its index in the ERP's order, the
/// category the commitment allows or not, and the line total.
struct CommitmentLine {
    std::int64_t index = 0;
    std::string sku;
    std::string text;
    std::string category;
    std::int64_t amount = 0;  // minor units, may be negative (discount)
    friend bool operator==(const CommitmentLine&, const CommitmentLine&) = default;
};

struct CheckRequest {
    std::string card_id;
    Money total;
    std::vector<CommitmentLine> lines;
    friend bool operator==(const CheckRequest&, const CheckRequest&) = default;
};

enum class CommitmentStatus : std::uint8_t { active, blocked, expired, inactive };
std::string_view to_string(CommitmentStatus s);

struct CheckReply {
    std::string card_id;
    CommitmentStatus status = CommitmentStatus::inactive;
    std::string valid_from, valid_until;  // "" when the card has no commitment
    Money balance;
    std::vector<std::int64_t> blocked_lines;
    std::string billing_reference;
    friend bool operator==(const CheckReply&, const CheckReply&) = default;
};

struct DebitRequest {
    std::string card_id;
    std::string order_id;
    std::string payment_ref;
    std::string register_id;
    Money amount;
    std::vector<CommitmentLine> lines;
    friend bool operator==(const DebitRequest&, const DebitRequest&) = default;
};

struct DebitReply {
    std::string debit_id;
    std::string card_id;
    Money amount;
    std::int64_t remaining_balance = 0;  // same currency as amount
    std::string billing_reference;
    std::string valid_until;
    friend bool operator==(const DebitReply&, const DebitReply&) = default;
};

struct ReceiptLine {
    std::string sku;
    std::string text;
    std::string category;
    std::int64_t qty_milli = 1000;
    std::int64_t unit_price = 0;
    std::int64_t amount = 0;
    friend bool operator==(const ReceiptLine&, const ReceiptLine&) = default;
};

struct ReceiptRequest {
    std::string debit_id;
    std::string card_id;
    std::string billing_reference;
    std::string order_id;
    std::string payment_ref;
    std::string register_id;
    std::string paid_at;  // ISO 8601 UTC
    Money amount;
    std::vector<ReceiptLine> lines;
    friend bool operator==(const ReceiptRequest&, const ReceiptRequest&) = default;
};

struct ReceiptReply {
    std::string receipt_id;
    friend bool operator==(const ReceiptReply&, const ReceiptReply&) = default;
};

/// Undo a debit whose answer Paybridge never saw (README §3 "void"): names the debit by the
/// idempotency key it was sent with.
struct VoidRequest {
    std::string debit_key;
    std::string card_id;
    std::string payment_ref;
    Money amount;
    friend bool operator==(const VoidRequest&, const VoidRequest&) = default;
};

struct VoidReply {
    bool voided = false;   // true: the debit had happened and its amount is back on the balance
    std::string debit_id;  // when voided
    friend bool operator==(const VoidReply&, const VoidReply&) = default;
};

std::string encode(const CheckRequest& m);
std::string encode(const CheckReply& m);
std::string encode(const DebitRequest& m);
std::string encode(const DebitReply& m);
std::string encode(const ReceiptRequest& m);
std::string encode(const ReceiptReply& m);
std::string encode(const VoidRequest& m);
std::string encode(const VoidReply& m);

Decoded<CheckRequest> parse_check_request(std::string_view body);
/// `lines_sent`: how many lines the request had (blocked_lines must index into them).
Decoded<CheckReply> parse_check_reply(std::string_view body, std::size_t lines_sent);
Decoded<DebitRequest> parse_debit_request(std::string_view body);
Decoded<DebitReply> parse_debit_reply(std::string_view body);
Decoded<ReceiptRequest> parse_receipt_request(std::string_view body);
Decoded<ReceiptReply> parse_receipt_reply(std::string_view body);
Decoded<VoidRequest> parse_void_request(std::string_view body);
Decoded<VoidReply> parse_void_reply(std::string_view body);

}  // namespace pb::upstream
