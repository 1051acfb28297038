#pragma once
// E-receipts (issue 7, seed e-receipt-sv): what the ledger keeps of a sale's receipt.
//  - One receipt per order (the sale), opened at the first line (receipt.start, for the QR on
//    the customer display) or when the ERP chooses a delivery. Its id is the unguessable last
//    segment of the customer's URL (made by the caller from a CSPRNG).
//  - Finalising records how the original went (print, sms, email, waste_basket, qr), to where,
//    for which payment, and the document's lines: the same lines the paper receipt has.
//  - Copies are counted; each copy is journaled.
//  - Retention: `delete_after` (30 days after opening by default). receipts_purge deletes the
//    lines and the destination for good, the terminal slips of its payments, and blanks the
//    bodies of the outbox messages that carried its document; the row stays as a tombstone.
//  - The terminal's customer slip of a payment (ZVT print lines) is kept until the receipt is
//    made (receipt_slips), so that a restart in between loses nothing.
//  - A customer's remembered choice (by the ERP's customer id).
// The audit chain gets "receipt.*" events without personal data (no phone, e-mail or lines).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.hpp"

namespace pb::ledger {

enum class ReceiptState : std::uint8_t { open, final, deleted };
std::string_view receipt_state_id(ReceiptState s);

struct ReceiptRecord {
    std::string id;
    std::string order_id;
    std::string register_id;
    std::string customer_id;
    ReceiptState state = ReceiptState::open;
    std::string channel;      // "" while open: "print", "sms", "email", "waste_basket", "qr"
    std::string destination;  // phone or e-mail ("" for the others)
    std::optional<PaymentId> payment;
    std::vector<std::string> lines;  // the document ([] while open and once deleted)
    bool qr_shown = false;           // opened for the customer display (receipt.start)
    std::int64_t copies = 0;
    std::int64_t opened_utc_ms = 0;
    std::optional<std::int64_t> display_until_utc_ms;
    std::optional<std::int64_t> final_utc_ms;
    std::int64_t delete_after_utc_ms = 0;
    std::optional<std::int64_t> deleted_utc_ms;
};

struct ReceiptOpenNew {
    std::string id;
    std::string order_id;
    std::string register_id;
    std::string customer_id;
    bool qr_shown = false;
    std::optional<std::int64_t> display_until_utc_ms;
    std::int64_t delete_after_utc_ms = 0;
};

struct ReceiptFinal {
    std::string channel;
    std::string destination;
    PaymentId payment;
    std::vector<std::string> lines;
};

struct ReceiptChoice {
    std::string customer_id;
    std::string channel;
    std::string destination;
};

/// Opens the order's receipt; an order that has one gets it back unchanged (created = false).
struct ReceiptOpened {
    ReceiptRecord receipt;
    bool created = false;
};
Result<ReceiptOpened> receipt_open(Tx& tx, const ReceiptOpenNew& r);
/// not_found when the order (id) has no receipt.
Result<ReceiptRecord> receipt_by_order(Tx& tx, std::string_view order_id);
Result<ReceiptRecord> receipt_get(Tx& tx, std::string_view id);
/// open -> final. invalid_transition if it is final (or deleted) already.
Result<ReceiptRecord> receipt_finalise(Tx& tx, std::string_view id, const ReceiptFinal& f);
/// A copy of a final receipt: its number (1, 2, ...). invalid_transition unless final.
Result<std::int64_t> receipt_add_copy(Tx& tx, std::string_view id, std::string_view channel,
                                      std::string_view operator_id);
/// Every open receipt, oldest first (recovery of the no-choice timeout after a restart).
Result<std::vector<ReceiptRecord>> receipts_open(Tx& tx);
/// Deletes, for good, every receipt whose delete_after <= now (see the header comment); the
/// number deleted. Also drops slips older than the retention of payments that never got a
/// receipt (`slip_cutoff_utc_ms`).
Result<std::int64_t> receipts_purge(Tx& tx, std::int64_t now_utc_ms, std::int64_t slip_cutoff_utc_ms);

Status receipt_slip_put(Tx& tx, PaymentId payment, const std::vector<std::string>& lines);
/// [] when the terminal printed nothing for the payment.
Result<std::vector<std::string>> receipt_slip(Tx& tx, PaymentId payment);

Status receipt_choice_put(Tx& tx, const ReceiptChoice& c);
Result<std::optional<ReceiptChoice>> receipt_choice(Tx& tx, std::string_view customer_id);

}  // namespace pb::ledger
