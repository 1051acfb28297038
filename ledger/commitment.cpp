#include "ledger/commitment.hpp"

#include <boost/json.hpp>

#include "ledger/store.hpp"

namespace pb::ledger {
namespace json = boost::json;

Result<std::int64_t> record_commitment_intent(Tx& tx, PaymentId payment, const std::string& card_id) {
    if (card_id.empty()) return pb::unexpected(Error{Errc::invalid_argument, "commitment: card id is empty"});
    return tx.append_event("commitment.requested", std::to_string(payment.value),
                           json::serialize(json::object{{"card_id", card_id}}));
}

Result<std::int64_t> record_commitment_debit(Tx& tx, PaymentId payment, const CommitmentDebit& d) {
    if (d.debit_id.empty()) return pb::unexpected(Error{Errc::invalid_argument, "commitment: debit id is empty"});
    return tx.append_event("commitment.debited", std::to_string(payment.value),
                           json::serialize(json::object{{"debit_id", d.debit_id},
                                                        {"billing_reference", d.billing_reference},
                                                        {"remaining_balance", d.remaining_balance},
                                                        {"valid_until", d.valid_until}}));
}

Result<CommitmentRecord> commitment_of(Tx& tx, PaymentId payment) {
    return detail::guarded([&]() -> Result<CommitmentRecord> {
        auto st = tx.store().db.prepare(
            "SELECT kind, body FROM events WHERE subject = ? AND kind IN ('commitment.requested','commitment.debited') "
            "ORDER BY seq");
        st.bind(1, std::to_string(payment.value));
        CommitmentRecord rec;
        bool found = false;
        while (st.step()) {
            auto body = json::parse(st.text(1)).as_object();
            if (st.text(0) == "commitment.requested") {
                rec.card_id = std::string(body.at("card_id").as_string());
                found = true;
            } else {
                CommitmentDebit d;
                d.debit_id = std::string(body.at("debit_id").as_string());
                d.billing_reference = std::string(body.at("billing_reference").as_string());
                d.remaining_balance = body.at("remaining_balance").as_int64();
                d.valid_until = std::string(body.at("valid_until").as_string());
                rec.debit = d;
            }
        }
        if (!found)
            return pb::unexpected(Error{Errc::not_found, "payment " + std::to_string(payment.value) + " is not a commitment payment"});
        return rec;
    });
}

}  // namespace pb::ledger
