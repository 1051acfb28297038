#pragma once
// The benefit-payment service as the simulator plays it (protocol/upstream/README.md §5): the
// benefit provider's side issues vouchers (the customer's purchase in the app: voucher id,
// fixed amount, provider, purchase time), the shop verifies, redeems, cancels and credits them.
// Pure logic: the current time comes in with every call. Idempotency is kept by Services
// (service.hpp) in front of it; a cancel of a redeem the service has not seen remembers the
// redeem's key so that the redeem, arriving late, is refused (README §5 "cancel").

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/core/expected.hpp"

namespace pb::sim::upstream {

struct Answer;

struct Voucher {
    std::string voucher_id, provider_id, currency = "SEK";
    std::int64_t amount = 0;
    std::int64_t purchased_at_ms = 0;
    std::int64_t valid_ms = 0;     // 0: the service's default (BenefitService::valid_ms)
    std::string status = "valid";  // valid | redeemed | cancelled | credited
    std::string redemption_id;
};

struct Redemption {
    std::string redemption_id, redeem_key, voucher_id, provider_id, order_id, payment_ref, register_id, currency;
    std::int64_t amount = 0;
    std::int64_t redeemed_at_ms = 0;
    std::string state = "redeemed";  // redeemed | cancelled | credited | voided (unanswered redeem undone)
    std::string credit_id;
};

class BenefitService {
public:
    /// The service's own rule for a voucher's life after purchase (the seed's 15 minutes).
    std::int64_t valid_ms = 15 * 60 * 1000;

    /// Handles /v1/vouchers/*; `key` is the Idempotency-Key ("" if none).
    Answer handle(const std::string& path, const std::string& body, const std::string& key, std::int64_t now_ms);

    /// The provider's side: {"voucher_id", "amount", "currency" (SEK), "provider_id",
    /// "purchased_at" (ISO UTC) or "age_seconds" (purchased that long before now; default 0),
    /// "valid_seconds" (this voucher's life, default the service's 15 minutes)}.
    Expected<void, std::string> issue(const boost::json::object& spec, std::int64_t now_ms);

    const std::map<std::string, Voucher>& vouchers() const { return vouchers_; }
    const std::vector<Redemption>& redemptions() const { return redemptions_; }

    boost::json::object to_json() const;
    Expected<void, std::string> from_json(const boost::json::object& o);

private:
    Answer verify(const std::string& body);
    Answer redeem(const std::string& body, const std::string& key, std::int64_t now_ms);
    Answer cancel(const std::string& body);
    Answer credit(const std::string& body);

    std::map<std::string, Voucher> vouchers_;
    std::vector<Redemption> redemptions_;
    std::set<std::string> cancelled_keys_;  // redeem keys cancelled before the redeem arrived
};

}  // namespace pb::sim::upstream
