#pragma once
// The e-receipt service's messages (protocol/upstream/README.md §5): a receipt id reserved for
// the customer display's QR code (open), a finished receipt document delivered by a channel
// (deliver), and a copy of it (copy). All three go through the outbox with an idempotency key
// and carry the date after which the service deletes what it holds (`delete_at`, 30 days by
// default). Pure: encode to the README's JSON, parse back with every field checked.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/upstream/wire.hpp"

namespace pb::upstream {

inline constexpr std::string_view kReceiptOpenPath = "/v1/receipts/open";
inline constexpr std::string_view kReceiptDeliverPath = "/v1/receipts";
/// "/v1/receipts/{receipt_id}/copies"
std::string receipt_copies_path(std::string_view receipt_id);
/// The receipt id of a copies path; nullopt if `path` is not one.
std::optional<std::string> receipt_id_of_copies_path(std::string_view path);

/// A receipt id: the last segment of the customer's URL, 22..64 characters of base64url
/// (A-Z a-z 0-9 - _); Paybridge makes them from 128 random bits (22 characters).
bool valid_receipt_id(std::string_view id);

/// How the original (or a copy) reaches the customer. `print` reaches the service only when a
/// QR page was opened for the receipt (so that the page stops waiting).
enum class ReceiptChannel : std::uint8_t { print, sms, email, waste_basket, qr };
std::string_view to_string(ReceiptChannel c);
std::optional<ReceiptChannel> receipt_channel_from(std::string_view s);
enum class EmailMode : std::uint8_t { attachment, link };
std::string_view to_string(EmailMode m);

/// The rendered receipt: a PDF, base64 in JSON.
struct ReceiptDocument {
    std::string content_type = "application/pdf";
    std::string pdf;  // the bytes (decoded)
    friend bool operator==(const ReceiptDocument&, const ReceiptDocument&) = default;
};

struct ReceiptOpen {
    std::string receipt_id;
    std::string register_id;
    std::string opened_at;      // ISO 8601 UTC
    std::string display_until;  // ISO 8601 UTC
    std::string delete_at;      // ISO 8601 UTC: the service deletes the page after it
    friend bool operator==(const ReceiptOpen&, const ReceiptOpen&) = default;
};

struct ReceiptDeliver {
    std::string receipt_id;
    std::string register_id;
    std::string order_id;
    std::string payment_ref;
    ReceiptChannel channel = ReceiptChannel::qr;
    std::string phone;  // sms (E.164)
    std::string email;  // email
    EmailMode email_mode = EmailMode::attachment;  // email only
    std::string issued_at;
    std::string delete_at;
    ReceiptDocument document;
    friend bool operator==(const ReceiptDeliver&, const ReceiptDeliver&) = default;
};

struct ReceiptCopy {
    std::string receipt_id;  // also in the path
    std::string copy_id;     // "c1", "c2", ... per receipt
    ReceiptChannel channel = ReceiptChannel::sms;  // sms or email (a printed copy stays at the till)
    std::string phone;
    std::string email;
    EmailMode email_mode = EmailMode::attachment;
    ReceiptChannel original_channel = ReceiptChannel::print;
    std::string issued_at;
    std::string delete_at;
    ReceiptDocument document;
    friend bool operator==(const ReceiptCopy&, const ReceiptCopy&) = default;
};

/// The service's answer to all three: the receipt id and what it holds now.
struct ReceiptAck {
    std::string receipt_id;
    std::string status;  // "waiting" (open), "delivered", "discarded", "copied"
    friend bool operator==(const ReceiptAck&, const ReceiptAck&) = default;
};

std::string encode(const ReceiptOpen& m);
std::string encode(const ReceiptDeliver& m);
std::string encode(const ReceiptCopy& m);
std::string encode(const ReceiptAck& m);
Decoded<ReceiptOpen> parse_receipt_open(std::string_view body);
Decoded<ReceiptDeliver> parse_receipt_deliver(std::string_view body);
Decoded<ReceiptCopy> parse_receipt_copy(std::string_view body);
Decoded<ReceiptAck> parse_receipt_ack(std::string_view body);

/// RFC 4648 base64 with padding; decode rejects anything else.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace pb::upstream
