#pragma once
// The typed bodies the daemon sends back: payments, orders, interim entries, terminals,
// day-close totals, cash reconciliation (protocol/erp/README.md, "Replies" and "Events").
// to_json is what the daemon sends; *_from_json is for C++ clients and tests, and ignores
// fields it does not know (clients must, so that the server can add fields within v 1).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "protocol/core/card.hpp"
#include "protocol/core/expected.hpp"
#include "protocol/core/money.hpp"
#include "protocol/erp/error.hpp"

namespace pb::erp {

enum class PaymentKind : std::uint8_t { sale, refund, reversal, cash, commitment, benefit };
/// design.md §4. `rejected`: nothing was sent (validation, permission, busy).
enum class PaymentState : std::uint8_t {
    requested, sent, approved, declined, aborted, unknown, rejected, reversed, refunded
};
std::string_view to_string(PaymentKind k);
std::string_view to_string(PaymentState s);
std::optional<PaymentKind> payment_kind_from(std::string_view s);
std::optional<PaymentState> payment_state_from(std::string_view s);
/// approved, declined, aborted, rejected, reversed, refunded: no further terminal outcome.
bool is_final(PaymentState s);

struct PaymentView {
    std::string payment_id;
    std::string order_id;
    std::string request_key;
    PaymentKind kind = PaymentKind::sale;
    PaymentState state = PaymentState::requested;
    Money amount;
    std::string terminal;  // empty for cash
    std::string register_id;
    std::string operator_id;
    std::string receptionist;
    std::string original_payment_id;  // refunds and reversals
    CardBrand brand = CardBrand::unknown;
    MaskedPan masked_pan;
    std::optional<std::uint32_t> trace;       // ZVT trace number, BMP 0B
    std::optional<std::uint32_t> receipt_no;  // ZVT receipt number, BMP 87
    std::string approval_code;                // ZVT BMP 3B (AID)
    std::optional<std::uint8_t> result_code;  // ZVT result code, BMP 27
    std::string result_text;
    std::string created_at;  // ISO 8601 UTC, "2024-05-03T10:15:00Z"
    std::string updated_at;
    friend bool operator==(const PaymentView&, const PaymentView&) = default;
};

struct OrderView {
    std::string order_id;
    std::vector<PaymentView> payments;
    std::optional<Money> paid;  // approved sales + cash - refunds, when single-currency
    friend bool operator==(const OrderView&, const OrderView&) = default;
};

struct InterimEntry {
    std::string entry_id;
    std::string order_id;
    std::string payment_id;
    std::string reason;  // aborted | unknown | unpaid
    Money amount;
    std::string terminal;
    std::string register_id;
    bool open = true;
    std::string created_at;
    std::string resolution;  // when resolved: paid_otherwise | retried | reversed | written_off
    std::string resolved_by;
    std::string resolved_at;
    std::string note;  // resolver's reason
    std::string reference;
    friend bool operator==(const InterimEntry&, const InterimEntry&) = default;
};

struct TerminalView {
    std::string terminal;
    std::string register_id;
    std::string protocol;  // "zvt"
    std::string link;      // "tcp" | "serial"
    bool online = false;
    bool busy = false;
    std::string payment_id;  // the outstanding one while busy
    std::string currency;    // ISO 4217 alpha
    std::string last_seen;   // ISO 8601 UTC, empty if never
    friend bool operator==(const TerminalView&, const TerminalView&) = default;
};

struct BrandTotal {
    std::string brand;  // brand_id() or a configured issuer id ("own")
    std::int64_t count = 0;   // net: may be negative (a refund of an earlier batch's payment)
    std::int64_t amount = 0;  // minor units
    friend bool operator==(const BrandTotal&, const BrandTotal&) = default;
};

struct DayCloseResult {
    std::string terminal;
    std::string register_id;
    bool ok = false;
    std::string error;  // when !ok: why the terminal's end-of-day failed
    std::string business_date;  // YYYY-MM-DD, local
    std::string currency;
    std::vector<BrandTotal> terminal_totals;
    std::vector<BrandTotal> ledger_totals;
    bool matches = false;  // terminal and ledger agree per brand
    /// Issue 7: benefit vouchers of the register in this close, per provider (`brand` = the
    /// provider id), net of cancels and credits; booked apart from the cards, not in `matches`.
    std::vector<BrandTotal> benefit_totals;
    /// Issue 7: commitment-card payments of the register in this close, per billing reference
    /// (`brand` = the billing reference); invoiced apart from the cards, not in `matches`.
    std::vector<BrandTotal> commitment_totals;
    friend bool operator==(const DayCloseResult&, const DayCloseResult&) = default;
};

struct ReconcileView {
    std::string register_id;
    std::string business_date;
    std::string currency;
    std::int64_t opening_float = 0;
    std::int64_t cash_in = 0;
    std::int64_t cash_out = 0;
    std::int64_t expected = 0;
    std::int64_t counted = 0;
    std::int64_t difference = 0;  // counted - expected
    friend bool operator==(const ReconcileView&, const ReconcileView&) = default;
};

struct HelloView {
    std::string server = "paybridged";
    std::string server_version;
    std::vector<std::int64_t> versions{1};
    std::int64_t max_message_bytes = 64 * 1024;
    friend bool operator==(const HelloView&, const HelloView&) = default;
};

boost::json::object to_json(const PaymentView& p);
boost::json::object to_json(const OrderView& o);
boost::json::object to_json(const InterimEntry& e);
boost::json::object to_json(const TerminalView& t);
boost::json::object to_json(const BrandTotal& t);
boost::json::object to_json(const DayCloseResult& d);
boost::json::object to_json(const ReconcileView& r);
boost::json::object to_json(const HelloView& h);

Expected<PaymentView, ErpError> payment_from_json(const boost::json::object& o);
Expected<OrderView, ErpError> order_from_json(const boost::json::object& o);
Expected<InterimEntry, ErpError> interim_entry_from_json(const boost::json::object& o);
Expected<TerminalView, ErpError> terminal_from_json(const boost::json::object& o);
Expected<DayCloseResult, ErpError> day_close_from_json(const boost::json::object& o);
Expected<ReconcileView, ErpError> reconcile_from_json(const boost::json::object& o);

/// Wraps for a list reply: {"payments": [...]}, {"entries": [...]}, {"terminals": [...]}.
boost::json::object list_json(std::string_view key, const std::vector<boost::json::object>& items);

}  // namespace pb::erp
