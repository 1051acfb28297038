#pragma once
// The upstream services as the simulator plays them (protocol/upstream/README.md): pure logic,
// no I/O and no clock (today's date comes in with every request). The commitment service is
// here; e-receipt and benefit services slot in as further routes of the same Services.
//
// Idempotency (README §1) is kept here too, for every POST with a key: a repeated key with
// the same body gets the first answer (status and body), with a different body 409
// idempotency_conflict; the operation itself runs once.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/core/expected.hpp"
#include "simulators/upstream/benefit.hpp"
#include "simulators/upstream/receipts.hpp"

namespace pb::sim::upstream {

struct Answer {
    unsigned status = 200;
    std::string body;
    std::string content_type = "application/json";  // the e-receipt page: text/html or application/pdf
    friend bool operator==(const Answer&, const Answer&) = default;
};

struct Request {
    std::string method;
    std::string path;             // without query
    std::string body;
    std::string idempotency_key;  // "" if none
    std::string today;            // "YYYY-MM-DD"
    std::int64_t now_ms = 0;      // UTC ms (benefit vouchers' times)
    std::int64_t now_utc_ms = 0;  // the e-receipt service deletes by it (receipts.hpp)
};

/// A commitment on a card, as the issuer set it up (README §4).
struct Commitment {
    std::string card_id;
    bool blocked = false;
    bool active = false;          // false: a blank card, or the balance moved away
    std::int64_t amount = 0;      // as activated
    std::int64_t balance = 0;
    std::string currency = "SEK";
    std::string valid_from, valid_until;
    std::set<std::string> categories;
    std::string billing_reference, billing_name, invoice = "consolidated";
};

struct Debit {
    std::string debit_id, idempotency_key, card_id, order_id, payment_ref, register_id, billing_reference, currency;
    std::int64_t amount = 0;
    std::int64_t remaining = 0;
    bool voided = false;
};

/// Receipt line messages as received: one entry per idempotency key, with how many times
/// that key arrived (duplicates are counted, never stored twice).
struct ReceivedReceipt {
    std::string receipt_id, idempotency_key, debit_id, billing_reference;
    boost::json::value message;
    int deliveries = 1;
};

class Services {
public:
    Answer handle(const Request& request);

    // Issuer administration (README §4); errors say what is wrong.
    Expected<void, std::string> activate(const boost::json::object& spec);
    Expected<void, std::string> block(const std::string& card_id);
    Expected<void, std::string> transfer(const std::string& from, const std::string& to);

    const Commitment* card(const std::string& id) const;
    const std::vector<Debit>& debits() const { return debits_; }
    const std::vector<ReceivedReceipt>& receipts() const { return receipts_; }
    const ReceiptService& ereceipts() const { return ereceipts_; }
    /// Runs the e-receipt deletion at `now` (also done before every request).
    void purge_receipts(std::int64_t now_utc_ms);
    std::int64_t requests_seen() const { return requests_; }
    std::int64_t duplicates_seen() const { return duplicates_; }
    /// The benefit-payment service (benefit.hpp): vouchers are issued through it.
    BenefitService& benefit() { return benefit_; }
    const BenefitService& benefit() const { return benefit_; }

    /// The whole state as JSON (state file) and back.
    boost::json::object to_json() const;
    Expected<void, std::string> from_json(const boost::json::value& v);

private:
    Answer route(const Request& r);
    Answer check(const Request& r);
    Answer debit(const Request& r);
    Answer receipt(const Request& r);
    Answer void_debit(const Request& r);
    /// The commitment's state for a purchase today: "" if it may pay, else the error code.
    std::string refusal(const Commitment& c, const std::string& today) const;

    std::map<std::string, Commitment> cards_;
    std::vector<Debit> debits_;
    std::vector<ReceivedReceipt> receipts_;
    ReceiptService ereceipts_;
    struct Remembered {
        std::string path, body;
        Answer answer;
        bool forgotten = false;  // an e-receipt deleted after its retention: body no longer kept
    };
    std::map<std::string, Remembered> idempotent_;  // key -> first request and answer
    std::int64_t requests_ = 0;
    std::int64_t duplicates_ = 0;
    BenefitService benefit_;
};

}  // namespace pb::sim::upstream
