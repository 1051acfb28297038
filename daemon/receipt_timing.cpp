#include "daemon/receipt_timing.hpp"

#include <algorithm>

namespace pb::daemon {

ReceiptTiming::ReceiptTiming(ReceiptTimes times, std::function<std::int64_t()> clock)
    : times_(times), clock_(std::move(clock)) {}

void ReceiptTiming::paid(const std::string& receipt_id, std::int64_t approved_ms) {
    const std::int64_t end = approved_ms + times_.choice_timeout.count();
    auto [it, added] = windows_.emplace(receipt_id, end);
    if (!added) it->second = std::max(it->second, end);
}

void ReceiptTiming::chosen(const std::string& receipt_id) { windows_.erase(receipt_id); }

std::vector<std::string> ReceiptTiming::take_due() {
    const std::int64_t t = now();
    std::vector<std::pair<std::int64_t, std::string>> due;
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (it->second <= t) {
            due.emplace_back(it->second, it->first);
            it = windows_.erase(it);
        } else {
            ++it;
        }
    }
    std::sort(due.begin(), due.end());
    std::vector<std::string> out;
    for (auto& d : due) out.push_back(std::move(d.second));
    return out;
}

std::int64_t ReceiptTiming::next_due() const {
    std::int64_t next = next_purge_;
    for (const auto& [id, end] : windows_) next = std::min(next, end);
    return next;
}

}  // namespace pb::daemon
