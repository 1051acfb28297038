#pragma once
// The e-receipt service as the simulator plays it (protocol/upstream/README.md §5): pure logic,
// the time comes in with every request.
//  - POST /v1/receipts/open reserves a receipt id: its page GET /r/{id} says "waiting".
//  - POST /v1/receipts stores the document and "sends" it: an SMS with the link, an e-mail with
//    the PDF attached or the link, a QR page, a print (resolves a waiting page) or the digital
//    waste-basket (a discarded original). The page then serves the PDF.
//  - POST /v1/receipts/{id}/copies sends a copy (sms / email).
//  - Everything of a receipt is deleted once `delete_at` has passed (purge, run before every
//    request): the page answers 404 and the messages' contents are gone.
// Idempotency is Services' (service.hpp): an operation here runs once per key.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/core/expected.hpp"

namespace pb::sim::upstream {

struct Answer;
struct Request;

struct HeldReceipt {
    std::string receipt_id;
    std::string state = "waiting";  // waiting, delivered, discarded
    std::string register_id, order_id, payment_ref, channel, phone, email, email_mode;
    std::string opened_at, display_until, issued_at, delete_at;
    std::int64_t delete_at_ms = 0;
    std::string pdf;
    int copies = 0;
};

/// What the service "sent" to a customer (SMS, e-mail), in order.
struct SentMessage {
    std::string receipt_id, kind, to, what;  // kind: sms | email; what: link | attachment | copy-link | copy-attachment
    std::string original_channel;            // copies
    std::size_t pdf_bytes = 0;
};

class ReceiptService {
public:
    static bool handles(const std::string& path);
    Answer handle(const Request& r);
    /// Deletes every receipt whose delete_at <= now; the ids deleted.
    std::vector<std::string> purge(std::int64_t now_utc_ms);

    const std::map<std::string, HeldReceipt>& receipts() const { return receipts_; }
    const std::vector<SentMessage>& sent() const { return sent_; }
    std::int64_t deleted() const { return deleted_; }
    /// For the control port: one receipt without its PDF bytes (their size and %PDF check instead).
    static boost::json::object describe(const HeldReceipt& r);
    boost::json::array describe_sent() const;

    boost::json::object to_json() const;
    Expected<void, std::string> from_json(const boost::json::value& v);

private:
    Answer open(const Request& r);
    Answer deliver(const Request& r);
    Answer copy(const Request& r, const std::string& id);
    Answer page(const std::string& id) const;

    std::map<std::string, HeldReceipt> receipts_;
    std::vector<SentMessage> sent_;
    std::int64_t deleted_ = 0;
};

/// "2024-05-03T10:15:00Z" -> UTC ms; -1 if not that form.
std::int64_t parse_iso_utc_ms(const std::string& s);

}  // namespace pb::sim::upstream
