#pragma once
// The clock rules of e-receipts (issue 7, seed e-receipt-sv), apart from any I/O so that a fake
// clock can test them:
//  - the QR code is on the customer display from the sale's first line for `qr_display`
//    (60 s): display_until = first line + qr_display;
//  - after the payment, when the cashier makes no choice within `choice_timeout` (30 s), the
//    receipt is finalised as a QR receipt (take_due lists those receipts);
//  - receipts are kept `retention` (30 days) from opening, then deleted; the deletion runs at
//    start and then every `purge_every` (a day).
// Times are UTC milliseconds from the injected clock.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pb::daemon {

struct ReceiptTimes {
    std::chrono::milliseconds qr_display{60'000};
    std::chrono::milliseconds choice_timeout{30'000};
    std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};
    std::chrono::milliseconds purge_every{std::chrono::hours(24)};
    friend bool operator==(const ReceiptTimes&, const ReceiptTimes&) = default;
};

class ReceiptTiming {
public:
    ReceiptTiming(ReceiptTimes times, std::function<std::int64_t()> clock);

    std::int64_t now() const { return clock_(); }
    const ReceiptTimes& times() const { return times_; }
    std::int64_t display_until(std::int64_t first_line_ms) const { return first_line_ms + times_.qr_display.count(); }
    std::int64_t delete_after(std::int64_t opened_ms) const { return opened_ms + times_.retention.count(); }

    /// A payment of a receipt shown as QR was approved at `approved_ms`: its no-choice window
    /// runs from then. A later approval (split tender) moves the window's end later, never
    /// earlier.
    void paid(const std::string& receipt_id, std::int64_t approved_ms);
    /// The cashier chose (or the receipt was finalised otherwise): no automatic QR.
    void chosen(const std::string& receipt_id);
    bool waiting(const std::string& receipt_id) const { return windows_.count(receipt_id) != 0; }
    /// Receipts whose window has passed at now(), oldest first; they leave the schedule.
    std::vector<std::string> take_due();

    /// Whether the deletion should run now (true at start); purged() schedules the next.
    bool purge_due() const { return now() >= next_purge_; }
    void purged() { next_purge_ = now() + times_.purge_every.count(); }

    /// When something is next due (a window's end or the next purge), UTC ms.
    std::int64_t next_due() const;

private:
    ReceiptTimes times_;
    std::function<std::int64_t()> clock_;
    std::map<std::string, std::int64_t> windows_;  // receipt id -> window end
    std::int64_t next_purge_ = 0;
};

}  // namespace pb::daemon
