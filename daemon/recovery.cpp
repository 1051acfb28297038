#include "daemon/recovery.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "protocol/core/calendar.hpp"
#include "protocol/zvt/tables.hpp"

namespace pb::daemon {

namespace {

std::string receipt_text(const zvt::TransactionData& d) {
    std::string s = "receipt " + (d.receipt_no ? std::to_string(*d.receipt_no) : std::string("?"));
    if (d.trace) s += ", trace " + std::to_string(*d.trace);
    if (d.amount) s += ", amount " + std::to_string(*d.amount);
    s += ", result " + std::to_string(d.result_code) + " (" + std::string(zvt::result_code_text(d.result_code)) + ")";
    return s;
}

std::string ref(ledger::PaymentId id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "p-%06lld", static_cast<long long>(id.value));
    return buf;
}

}  // namespace

std::int64_t local_utc_offset_s(std::int64_t utc_ms) {
    std::time_t t = static_cast<std::time_t>(utc_ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

std::int64_t terminal_clock_delta_s(std::uint16_t date_mmdd, std::uint32_t time_hhmmss, std::int64_t utc_ms,
                                    std::int64_t utc_offset_s) {
    const std::int64_t ours = utc_ms / 1000 + utc_offset_s;  // our wall clock, as seconds
    std::int64_t days = ours / 86400;
    if (ours % 86400 < 0) --days;
    // Year of our wall clock (civil_from_days, enough of it for the year).
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2);

    const unsigned tm_month = date_mmdd / 100, tm_day = date_mmdd % 100;
    const std::int64_t secs = (time_hhmmss / 10000) * 3600 + (time_hhmmss / 100 % 100) * 60 + time_hhmmss % 100;
    std::int64_t best = 0;
    bool first = true;
    for (std::int64_t y = year - 1; y <= year + 1; ++y) {
        const std::int64_t theirs = days_from_civil(y, tm_month, tm_day) * 86400 + secs;
        const std::int64_t delta = theirs - ours;
        if (first || std::llabs(delta) < std::llabs(best)) best = delta;
        first = false;
    }
    return best;
}

RecoveryDecision decide_recovery(const ledger::Payment& p, const zvt::Finished& answer, const RecoveryFacts& facts,
                                 const RecoveryRules& rules) {
    using S = ledger::PaymentState;
    if (answer.outcome != zvt::Outcome::done || !answer.data)
        return {S::unknown, "terminal did not re-send its last transaction (" + answer.reason + ")"};
    const zvt::TransactionData& d = *answer.data;
    const std::string seen = "terminal's last transaction: " + receipt_text(d);

    // Provably an older transaction: exactly the previous payment's receipt (and trace).
    // One outstanding transaction per terminal: had ours reached the terminal, it would be
    // the last one. So ours was never charged.
    if (d.receipt_no && facts.previous && facts.previous->terminal.receipt_no &&
        *facts.previous->terminal.receipt_no == *d.receipt_no &&
        (!d.trace || !facts.previous->terminal.trace || *d.trace == *facts.previous->terminal.trace))
        return {S::aborted, seen + ", which is " + ref(facts.previous->id) + "'s: this payment never reached a result"};
    if (!facts.receipt_owners.empty())
        return {S::unknown, seen + "; that receipt number belongs to " + ref(facts.receipt_owners.front()) +
                                ", which is not the previous payment"};

    const bool same_amount = d.amount && *d.amount == p.request.amount.minor;
    const bool same_currency = !d.currency || *d.currency == p.request.amount.currency.numeric;
    if (!same_amount || !same_currency) return {S::unknown, seen + "; amount or currency differ from this payment"};

    // Ours, not charged: a decline, an abort, or the terminal's auto-reversal (6C, §2.2.8)
    // after it got no acknowledgement. Nothing more recent happened on the terminal.
    if (d.result_code != zvt::rc::success)
        return {S::aborted, seen + ": not charged", true};

    if (d.date_mmdd && d.time_hhmmss) {
        const std::int64_t offset = rules.utc_offset_s ? *rules.utc_offset_s : local_utc_offset_s(p.created_utc_ms);
        const std::int64_t delta = terminal_clock_delta_s(*d.date_mmdd, *d.time_hhmmss, p.created_utc_ms, offset);
        const std::int64_t lo = -rules.clock_tolerance.count();
        const std::int64_t hi = rules.max_duration.count() + rules.clock_tolerance.count();
        if (delta < lo || delta > hi)
            return {S::unknown, seen + "; its time is " + std::to_string(delta) +
                                    " s from this payment's start, outside the window"};
    }
    return {S::approved, seen + ": approved (confirmed by repeat receipt)", true};
}

OperationDecision decide_operation_recovery(const ledger::Payment& p, bool refund, const zvt::Finished& answer) {
    const std::string what = refund ? "refund" : "reversal";
    if (answer.outcome != zvt::Outcome::done || !answer.data)
        return {OperationOutcome::unknown, "terminal did not re-send its last transaction (" + answer.reason + ")"};
    const zvt::TransactionData& d = *answer.data;
    const std::string seen = "terminal's last transaction: " + receipt_text(d);
    if (d.receipt_no && p.terminal.receipt_no && *d.receipt_no == *p.terminal.receipt_no)
        return {OperationOutcome::not_done, seen + ", the payment itself: the " + what + " never ran"};
    if (!d.amount || *d.amount != p.request.amount.minor)
        return {OperationOutcome::unknown, seen + "; amount differs from the payment's"};
    if (d.result_code != zvt::rc::success) return {OperationOutcome::not_done, seen + ": the " + what + " was not done"};
    if (!d.receipt_no) return {OperationOutcome::unknown, seen + "; no receipt number"};
    return {OperationOutcome::done, seen + ": the " + what + " was done (confirmed by repeat receipt)"};
}

}  // namespace pb::daemon
