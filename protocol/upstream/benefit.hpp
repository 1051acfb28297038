#pragma once
// The benefit-payment service's messages (protocol/upstream/README.md §5, seed
// benefit-payment-sv: Epassi-style wellness-benefit vouchers) and the rules Paybridge applies
// to a voucher's times. Each message encodes to the JSON body the README shows and parses back
// with every field checked; the daemon encodes requests and parses replies, the simulator the
// opposite, with the same functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/core/money.hpp"
#include "protocol/upstream/wire.hpp"

namespace pb::upstream {

inline constexpr std::string_view kVoucherVerifyPath = "/v1/vouchers/verify";
inline constexpr std::string_view kVoucherRedeemPath = "/v1/vouchers/redeem";
inline constexpr std::string_view kVoucherCancelPath = "/v1/vouchers/cancel";
inline constexpr std::string_view kVoucherCreditPath = "/v1/vouchers/credit";

/// "2024-05-03T10:10:00Z" <-> UTC milliseconds (whole seconds; README §1 "times ISO 8601 UTC").
std::string format_utc(std::int64_t utc_ms);
std::optional<std::int64_t> parse_utc(std::string_view text);

enum class VoucherStatus : std::uint8_t { valid, redeemed, cancelled, credited };
std::string_view to_string(VoucherStatus s);

struct VoucherVerifyRequest {
    std::string voucher_id;
    std::string provider_id;  // the shop's provider id at the benefit service
    friend bool operator==(const VoucherVerifyRequest&, const VoucherVerifyRequest&) = default;
};

/// What the service knows of a voucher: its fixed amount, for which provider it was bought,
/// when (the customer's purchase in the app) and whether it is still unused.
struct VoucherReply {
    std::string voucher_id;
    VoucherStatus status = VoucherStatus::valid;
    std::string provider_id;
    Money amount;
    std::int64_t purchased_at_ms = 0;
    std::string redemption_id;  // when redeemed (or cancelled / credited after a redemption)
    friend bool operator==(const VoucherReply&, const VoucherReply&) = default;
};

struct RedeemRequest {
    std::string voucher_id;
    std::string provider_id;
    std::string order_id;
    std::string payment_ref;
    std::string register_id;
    Money amount;
    friend bool operator==(const RedeemRequest&, const RedeemRequest&) = default;
};

struct RedeemReply {
    std::string redemption_id;
    std::string voucher_id;
    std::string provider_id;
    Money amount;
    std::int64_t purchased_at_ms = 0;
    std::int64_t redeemed_at_ms = 0;
    friend bool operator==(const RedeemReply&, const RedeemReply&) = default;
};

/// Cancel a redemption: the cashier's "wrong purchase" within the cancel window, or the void
/// of a redeem whose answer Paybridge never saw. Names the redemption by the idempotency key
/// the redeem was sent with (so it also works when Paybridge never learnt the redemption id).
struct VoucherCancelRequest {
    std::string redeem_key;
    std::string voucher_id;
    std::string provider_id;
    std::string payment_ref;
    Money amount;
    std::string reason;
    friend bool operator==(const VoucherCancelRequest&, const VoucherCancelRequest&) = default;
};

struct VoucherCancelReply {
    bool cancelled = false;      // true: the redemption had happened and is cancelled now
    std::string redemption_id;   // when cancelled
    friend bool operator==(const VoucherCancelReply&, const VoucherCancelReply&) = default;
};

struct CreditRequest {
    std::string redemption_id;
    std::string voucher_id;
    std::string provider_id;
    std::string payment_ref;
    Money amount;
    std::string reason;
    friend bool operator==(const CreditRequest&, const CreditRequest&) = default;
};

struct CreditReply {
    std::string credit_id;
    std::string redemption_id;
    Money amount;
    friend bool operator==(const CreditReply&, const CreditReply&) = default;
};

std::string encode(const VoucherVerifyRequest& m);
std::string encode(const VoucherReply& m);
std::string encode(const RedeemRequest& m);
std::string encode(const RedeemReply& m);
std::string encode(const VoucherCancelRequest& m);
std::string encode(const VoucherCancelReply& m);
std::string encode(const CreditRequest& m);
std::string encode(const CreditReply& m);

Decoded<VoucherVerifyRequest> parse_voucher_verify_request(std::string_view body);
Decoded<VoucherReply> parse_voucher_reply(std::string_view body);
Decoded<RedeemRequest> parse_redeem_request(std::string_view body);
Decoded<RedeemReply> parse_redeem_reply(std::string_view body);
Decoded<VoucherCancelRequest> parse_voucher_cancel_request(std::string_view body);
Decoded<VoucherCancelReply> parse_voucher_cancel_reply(std::string_view body);
Decoded<CreditRequest> parse_credit_request(std::string_view body);
Decoded<CreditReply> parse_credit_reply(std::string_view body);

/// The time rules of a benefit purchase (seed benefit-payment-sv: the app's receipt is valid
/// 15 minutes after the purchase; a wrong purchase can be cancelled within one hour of the
/// purchase; purchases of the last seven days can be credited). All measured from the
/// voucher's purchase time; `now` is passed in, so callers inject their clock.
struct BenefitWindows {
    std::int64_t valid_ms = 15 * 60'000;            // milliseconds (no <chrono> in protocol/)
    std::int64_t cancel_ms = 60 * 60'000;
    std::int64_t credit_ms = 7 * 24 * 60 * 60'000LL;

    enum class Verdict : std::uint8_t { inside, expired, not_yet };  // not_yet: purchase in the future
    /// Inside while purchased_at <= now <= purchased_at + window (the edge itself is inside).
    Verdict redeemable(std::int64_t purchased_ms, std::int64_t now_ms) const;
    Verdict cancellable(std::int64_t purchased_ms, std::int64_t now_ms) const;
    Verdict creditable(std::int64_t purchased_ms, std::int64_t now_ms) const;
    /// Tolerated clock skew between the service and Paybridge for "purchased in the future".
    std::int64_t skew_ms = 2 * 60'000;
};

}  // namespace pb::upstream
