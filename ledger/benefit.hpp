#pragma once
// What the ledger keeps of a benefit-voucher payment besides the payment itself (tender
// benefit_voucher, issue 7, seed benefit-payment-sv): the voucher, the provider it was bought
// for and its purchase time (the cancel and credit windows are measured from it), and, once
// redeemed, the service's redemption id. Events on the audit chain under the payment's
// subject ("benefit.requested", "benefit.redeemed"); no schema change.
//
// And what finance reads from them: benefit purchases per business day and provider, with
// how many were cancelled (reversed) and credited (refunded).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.hpp"

namespace pb::ledger {

struct BenefitRecord {
    std::string voucher_id;
    std::string provider_id;
    std::int64_t purchased_at_ms = 0;
    std::string redemption_id;        // "" until redeemed
    std::int64_t redeemed_at_ms = 0;
};

Result<std::int64_t> record_benefit_intent(Tx& tx, PaymentId payment, const BenefitRecord& voucher);
Result<std::int64_t> record_benefit_redeemed(Tx& tx, PaymentId payment, const std::string& redemption_id,
                                             std::int64_t redeemed_at_ms);
/// not_found if the payment has no benefit.requested event.
Result<BenefitRecord> benefit_of(Tx& tx, PaymentId payment);

/// One line of the statistics: benefit payments of one business day and provider that were
/// redeemed (approved, and later perhaps cancelled or credited).
struct BenefitStats {
    std::string business_date;
    std::string provider_id;
    std::string currency;
    std::int64_t count = 0, amount = 0;        // redeemed
    std::int64_t cancelled = 0, cancelled_amount = 0;
    std::int64_t credited = 0, credited_amount = 0;
    std::int64_t net_amount() const { return amount - cancelled_amount - credited_amount; }
};
/// Ordered by date, provider, currency. Dates inclusive; nullopt = open end.
Result<std::vector<BenefitStats>> benefit_stats(Tx& tx, const std::optional<std::string>& date_from,
                                                const std::optional<std::string>& date_to);

}  // namespace pb::ledger
