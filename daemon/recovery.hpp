#pragma once
// Deciding a payment whose outcome paybridged did not see (design.md §4 "recovery",
// docs/recovery.md, protocols/zvt.md §1.7).
//
// A payment is `unknown` when the link or the daemon was lost between `sent` and a final
// result. Before the terminal takes new work the daemon asks it for the Status-Information of
// its last transaction (Repeat Receipt 06 20, [ZVT-CMD] §2.20) and decides here, with no I/O:
//
//   approved  only on a clear match: result 00, same amount (and currency, if sent), a
//             receipt number no other payment of this terminal owns, and -- when the terminal
//             sent its clock (BMP 0C/0D) -- a time inside the payment's window;
//   aborted   only when "not charged" is provable: the terminal's last transaction is the
//             previous payment's (its receipt number and trace), or it is ours with a
//             non-success result (auto-reversal 6C, decline, ...);
//   unknown   everything else: the payment stays in the interim account with the evidence,
//             for a person with resolve_interim. Never guessed.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.hpp"
#include "protocol/zvt/ecr_session.hpp"

namespace pb::daemon {

/// What the ledger knows around the payment being decided (same terminal).
struct RecoveryFacts {
    /// The newest other payment on this terminal, created before ours, that has a terminal
    /// receipt number: the terminal's last transaction if ours never reached it.
    std::optional<ledger::Payment> previous;
    /// Other payments of this terminal that own the receipt number the terminal reported.
    std::vector<ledger::PaymentId> receipt_owners;
};

struct RecoveryRules {
    /// How far the terminal's clock (local time, BMP 0C/0D) may be from ours.
    std::chrono::seconds clock_tolerance{std::chrono::minutes(10)};
    /// Longest a payment can run on the terminal after `sent` (T4 180 s, restarted by each
    /// intermediate status, PA00P016 §5.2.6; a card timeout and a PIN entry fit well inside).
    std::chrono::seconds max_duration{std::chrono::minutes(15)};
    /// Our clock's offset from UTC at the payment's creation, in seconds (the terminal prints
    /// local time). nullopt: take it from the process's time zone.
    std::optional<std::int64_t> utc_offset_s;
};

struct RecoveryDecision {
    ledger::PaymentState state = ledger::PaymentState::unknown;  // approved, aborted or unknown
    std::string evidence;  // why, in words: goes to the ledger and the interim list
    /// The terminal's last transaction is this payment's: its card data, trace and receipt
    /// belong on the payment. False when it is another payment's (or nobody knows whose).
    bool ours = false;
};

/// `answer` is the driver's Finished of the repeat receipt (Outcome::done with the re-sent
/// 04 0F in `data`, or anything else when the terminal could not say).
RecoveryDecision decide_recovery(const ledger::Payment& payment, const zvt::Finished& answer,
                                 const RecoveryFacts& facts, const RecoveryRules& rules = {});

/// A refund (06 31) or reversal (06 30) of an approved payment whose outcome the daemon did not
/// see (it died, or the link went, between the intent and the ledger write). Its intent is the
/// terminal's newest event in the ledger, so it was the terminal's last transaction if it
/// reached the terminal at all; the repeat receipt tells:
///   done      result 00, same amount, a receipt number other than the payment's own;
///   not_done  the payment's own receipt is still the last one (the command never ran), or a
///             non-success result (declined, auto-reversed 6C because it was never acknowledged);
///   unknown   anything else (no answer, another amount): the payment stays `approved` and the
///             intent stays open, asked again at the next recovery; the evidence is journaled.
enum class OperationOutcome : std::uint8_t { done, not_done, unknown };
struct OperationDecision {
    OperationOutcome outcome = OperationOutcome::unknown;
    std::string evidence;
};
OperationDecision decide_operation_recovery(const ledger::Payment& payment, bool refund, const zvt::Finished& answer);

/// Seconds between the terminal's wall clock (MMDD, hhmmss) and the wall-clock time
/// `utc_ms + utc_offset_s`, choosing the year that puts them closest (a payment at New Year).
std::int64_t terminal_clock_delta_s(std::uint16_t date_mmdd, std::uint32_t time_hhmmss, std::int64_t utc_ms,
                                    std::int64_t utc_offset_s);

/// The process's UTC offset at `utc_ms` (localtime_r), in seconds.
std::int64_t local_utc_offset_s(std::int64_t utc_ms);

}  // namespace pb::daemon
