#pragma once
// Named crash points for the crash-point sweep (tests/fault/crash, docs/recovery.md "Crash
// points"). A build with the CMake option PB_TEST_HOOKS (default ON except for Release) compiles
// PB_CRASH_POINT(name) into a check against the environment variable
//
//     PB_CRASH_AT=<name>[#<n>]     raise SIGKILL on ourselves the n-th time <name> is reached (n = 1)
//     PB_CRASH_TRACE=1             write "PB_CRASH_POINT reached <name>" to stderr at every point
//
// read once, at the first point reached. Without PB_TEST_HOOKS the macros expand to nothing:
// release builds carry neither the check nor the names.
//
// Every name used with the macros must be listed in kCrashPoints (checked at compile time), so
// the sweep can iterate the table and be sure it covers every point in the code.

#include <array>
#include <string_view>

namespace pb::adapters::crash {

/// The operation a point belongs to; the driver's points are reached by every operation that
/// runs on the terminal, so their names carry the operation as prefix ("refund.after_ack_sent").
enum class Flow : unsigned char { sale, refund, reversal, cash, day_close, recovery };

struct Point {
    std::string_view name;
    Flow flow;
    std::string_view where;  // what has happened when the process dies here
};

// Driver points (adapters/zvt_terminal.cpp) use these suffixes after the operation's prefix.
inline constexpr std::string_view kCommandSent = "after_command_sent";
inline constexpr std::string_view kIntermediateStatus = "after_intermediate_status";
inline constexpr std::string_view kStatusInformation = "after_status_information";
inline constexpr std::string_view kResultDurable = "after_result_durable";  // daemon's on_persist
inline constexpr std::string_view kAckSent = "after_ack_sent";
inline constexpr std::string_view kCompletion = "after_completion";

inline constexpr std::array kCrashPoints = {
    // Card payment (daemon/payment_service.cpp, driver adapters/zvt_terminal.cpp).
    Point{"sale.after_request_read", Flow::sale, "payment.start parsed and checked, nothing written"},
    Point{"sale.after_intent_durable", Flow::sale, "payment durable in `sent`, 06 01 not yet handed to the driver"},
    Point{"sale.after_command_sent", Flow::sale, "06 01 written to the link"},
    Point{"sale.after_intermediate_status", Flow::sale, "an intermediate status 04 FF received (#n: the n-th)"},
    Point{"sale.after_status_information", Flow::sale, "Status-Information 04 0F received, not yet durable"},
    Point{"sale.after_result_durable", Flow::sale, "04 0F evidence durable, 80 00 not yet sent"},
    Point{"sale.after_ack_sent", Flow::sale, "80 00 to the 04 0F written to the link (commit point passed)"},
    Point{"sale.after_completion", Flow::sale, "Completion 06 0F received, outcome not yet recorded"},
    Point{"sale.after_outcome_durable", Flow::sale, "payment's final state durable, ERP not yet told"},
    Point{"sale.after_event_published", Flow::sale, "payment.result published to the ERP"},
    // Refund 06 31 (of an approved payment).
    Point{"refund.after_request_read", Flow::refund, "payment.refund parsed and checked, nothing written"},
    Point{"refund.after_intent_durable", Flow::refund, "refund intent durable, 06 31 not yet handed to the driver"},
    Point{"refund.after_command_sent", Flow::refund, "06 31 written to the link"},
    Point{"refund.after_intermediate_status", Flow::refund, "an intermediate status 04 FF received"},
    Point{"refund.after_status_information", Flow::refund, "Status-Information 04 0F received, not yet durable"},
    Point{"refund.after_result_durable", Flow::refund, "04 0F evidence durable, 80 00 not yet sent"},
    Point{"refund.after_ack_sent", Flow::refund, "80 00 to the 04 0F written to the link"},
    Point{"refund.after_completion", Flow::refund, "Completion 06 0F received, refund not yet recorded"},
    Point{"refund.after_outcome_durable", Flow::refund, "payment durable in `refunded`, ERP not yet told"},
    Point{"refund.after_event_published", Flow::refund, "reply and payment.result sent to the ERP"},
    // Reversal 06 30 (of an approved payment, by its receipt number).
    Point{"reversal.after_request_read", Flow::reversal, "payment.reverse parsed and checked, nothing written"},
    Point{"reversal.after_intent_durable", Flow::reversal, "reversal intent durable, 06 30 not yet handed to the driver"},
    Point{"reversal.after_command_sent", Flow::reversal, "06 30 written to the link"},
    Point{"reversal.after_intermediate_status", Flow::reversal, "an intermediate status 04 FF received"},
    Point{"reversal.after_status_information", Flow::reversal, "Status-Information 04 0F received, not yet durable"},
    Point{"reversal.after_result_durable", Flow::reversal, "04 0F evidence durable, 80 00 not yet sent"},
    Point{"reversal.after_ack_sent", Flow::reversal, "80 00 to the 04 0F written to the link"},
    Point{"reversal.after_completion", Flow::reversal, "Completion 06 0F received, reversal not yet recorded"},
    Point{"reversal.after_outcome_durable", Flow::reversal, "payment durable in `reversed`, ERP not yet told"},
    Point{"reversal.after_event_published", Flow::reversal, "reply and payment.result sent to the ERP"},
    // Cash (no terminal): one ledger write.
    Point{"cash.after_request_read", Flow::cash, "cash.record parsed and checked, nothing written"},
    Point{"cash.after_outcome_durable", Flow::cash, "cash payment durable `approved`, ERP not yet told"},
    Point{"cash.after_event_published", Flow::cash, "reply and payment.result sent to the ERP"},
    // Day-close: the terminal's end-of-day 06 50, then the ledger's close of the same batch.
    Point{"day_close.after_request_read", Flow::day_close, "day_close.run parsed and checked, nothing sent"},
    Point{"day_close.after_command_sent", Flow::day_close, "06 50 written to the link"},
    Point{"day_close.after_status_information", Flow::day_close, "04 0F with the totals received"},
    Point{"day_close.after_result_durable", Flow::day_close, "terminal totals durable, 80 00 not yet sent"},
    Point{"day_close.after_ack_sent", Flow::day_close, "80 00 to the 04 0F written to the link"},
    Point{"day_close.after_completion", Flow::day_close, "Completion 06 0F received"},
    Point{"day_close.after_outcome_durable", Flow::day_close, "ledger day-close durable, ERP not yet told"},
    Point{"day_close.after_event_published", Flow::day_close, "day_close.done published"},
    // Recovery after a restart (daemon/payment_service.cpp begin_recovery / finish_recovery).
    Point{"recovery.after_unknown_durable", Flow::recovery, "sent payments durable `unknown`, 06 20 not yet sent"},
    Point{"recovery.after_command_sent", Flow::recovery, "Repeat Receipt 06 20 written to the link"},
    Point{"recovery.after_status_information", Flow::recovery, "the re-sent 04 0F received"},
    Point{"recovery.after_outcome_durable", Flow::recovery, "evidence.recovery and the decision durable, ERP not yet told"},
};

/// Prefix of the driver's points for an operation ("sale", "refund", ...); empty for an
/// operation without points (registration, status enquiry).
constexpr std::string_view flow_prefix(Flow f) {
    switch (f) {
        case Flow::sale: return "sale";
        case Flow::refund: return "refund";
        case Flow::reversal: return "reversal";
        case Flow::cash: return "cash";
        case Flow::day_close: return "day_close";
        case Flow::recovery: return "recovery";
    }
    return "";
}

constexpr bool listed(std::string_view name) {
    for (const auto& p : kCrashPoints)
        if (p.name == name) return true;
    return false;
}

/// True if some operation has the driver point `suffix`.
constexpr bool listed_suffix(std::string_view suffix) {
    for (const auto& p : kCrashPoints)
        if (p.name.size() > suffix.size() && p.name.substr(p.name.size() - suffix.size()) == suffix &&
            p.name[p.name.size() - suffix.size() - 1] == '.')
            return true;
    return false;
}

#ifdef PB_TEST_HOOKS
inline constexpr bool kHooksCompiled = true;
/// Dies with SIGKILL if `name` (or prefix + "." + suffix) is PB_CRASH_AT's point and this is
/// its n-th occurrence.
void reached(std::string_view name);
void reached(std::string_view prefix, std::string_view suffix);
#else
inline constexpr bool kHooksCompiled = false;
#endif

}  // namespace pb::adapters::crash

#ifdef PB_TEST_HOOKS
#define PB_CRASH_POINT(name)                                                                       \
    do {                                                                                           \
        static_assert(::pb::adapters::crash::listed(name), "crash point not in kCrashPoints");     \
        ::pb::adapters::crash::reached(name);                                                      \
    } while (0)
/// A driver point of the running operation: prefix is flow_prefix() of it (may be empty).
#define PB_CRASH_POINT_OF(prefix, suffix)                                                          \
    do {                                                                                           \
        static_assert(::pb::adapters::crash::listed_suffix(suffix), "crash point not in kCrashPoints"); \
        ::pb::adapters::crash::reached(prefix, suffix);                                            \
    } while (0)
#else
#define PB_CRASH_POINT(name) ((void)0)
#define PB_CRASH_POINT_OF(prefix, suffix) ((void)0)
#endif
