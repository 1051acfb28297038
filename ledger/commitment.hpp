#pragma once
// What the ledger keeps of a commitment-card payment besides the payment itself (tender
// commitment_card, issue 7): the scanned card id (so that an unanswered debit can be voided
// after a restart) and, once debited, the service's debit id, the commitment's billing
// reference and the remaining balance printed on the receipt. Both are events on the audit
// chain under the payment's subject ("commitment.requested", "commitment.debited").
// No personal data: the card id is the card's number, not its holder.

#include <cstdint>
#include <optional>
#include <string>

#include "ledger/ledger.hpp"

namespace pb::ledger {

struct CommitmentDebit {
    std::string debit_id;
    std::string billing_reference;
    std::int64_t remaining_balance = 0;  // minor units, the payment's currency
    std::string valid_until;
};

struct CommitmentRecord {
    std::string card_id;
    std::optional<CommitmentDebit> debit;
};

Result<std::int64_t> record_commitment_intent(Tx& tx, PaymentId payment, const std::string& card_id);
Result<std::int64_t> record_commitment_debit(Tx& tx, PaymentId payment, const CommitmentDebit& debit);
/// not_found if the payment has no commitment.requested event.
Result<CommitmentRecord> commitment_of(Tx& tx, PaymentId payment);

}  // namespace pb::ledger
