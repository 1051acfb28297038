// decide_recovery: the rules of docs/recovery.md, one case each, with no terminal and no ledger.
#include "daemon/recovery.hpp"

#include <gtest/gtest.h>

#include "protocol/zvt/tables.hpp"

namespace pb::daemon {
namespace {

using S = ledger::PaymentState;

constexpr std::int64_t kCreated = 1700000000000;  // 2023-11-14 22:13:20 UTC

ledger::Payment ours(std::int64_t amount = 12500) {
    ledger::Payment p;
    p.id = {5};
    p.state = S::unknown;
    p.request.amount = Money{amount, *currency_from_code("EUR")};
    p.request.terminal_id = "T1";
    p.created_utc_ms = kCreated;
    return p;
}

zvt::TransactionData last(std::int64_t amount, std::uint16_t receipt, std::uint8_t rc = 0) {
    zvt::TransactionData d;
    d.result_code = rc;
    d.amount = amount;
    d.receipt_no = receipt;
    d.trace = 1000u + receipt;
    d.currency = 978;
    return d;
}

zvt::Finished answer(std::optional<zvt::TransactionData> d, zvt::Outcome o = zvt::Outcome::done) {
    return {zvt::Operation::repeat_receipt, o, 0, std::move(d), {}, {}, "done"};
}

RecoveryRules utc() {
    RecoveryRules r;
    r.utc_offset_s = 0;
    return r;
}

TEST(RecoveryDecision, ClearMatchWithResult00IsApproved) {
    auto d = last(12500, 8);
    d.date_mmdd = 1114;
    d.time_hhmmss = 221400;  // 40 s after the payment started
    auto got = decide_recovery(ours(), answer(d), {}, utc());
    EXPECT_EQ(got.state, S::approved) << got.evidence;
    EXPECT_TRUE(got.ours);
}

TEST(RecoveryDecision, ThePreviousPaymentsReceiptMeansOursNeverReachedTheTerminal) {
    RecoveryFacts facts;
    ledger::Payment prev;
    prev.id = {4};
    prev.terminal.receipt_no = 7;
    prev.terminal.trace = 1007;
    facts.previous = prev;
    facts.receipt_owners = {prev.id};
    auto got = decide_recovery(ours(), answer(last(3000, 7)), facts, utc());
    EXPECT_EQ(got.state, S::aborted) << got.evidence;
    EXPECT_FALSE(got.ours);
    EXPECT_NE(got.evidence.find("p-000004"), std::string::npos);
}

TEST(RecoveryDecision, SameReceiptButAnotherTraceIsNotProofOfAnything) {
    RecoveryFacts facts;
    ledger::Payment prev;
    prev.id = {4};
    prev.terminal.receipt_no = 7;
    prev.terminal.trace = 55;
    facts.previous = prev;
    facts.receipt_owners = {prev.id};
    EXPECT_EQ(decide_recovery(ours(), answer(last(12500, 7)), facts, utc()).state, S::unknown);
}

TEST(RecoveryDecision, AReceiptOwnedByAnOlderPaymentIsNotApproved) {
    // Receipt numbers wrap (1..9999) or restart after end-of-day: an old owner proves nothing.
    RecoveryFacts facts;
    facts.receipt_owners = {ledger::PaymentId{1}};
    EXPECT_EQ(decide_recovery(ours(), answer(last(12500, 8)), facts, utc()).state, S::unknown);
}

TEST(RecoveryDecision, AutoReversalOfOursIsAborted) {
    auto d = last(12500, 8, zvt::rc::abort_timeout_or_key);
    auto got = decide_recovery(ours(), answer(d), {}, utc());
    EXPECT_EQ(got.state, S::aborted) << got.evidence;
    EXPECT_NE(got.evidence.find("not charged"), std::string::npos);
}

TEST(RecoveryDecision, AnotherAmountStaysUnknown) {
    EXPECT_EQ(decide_recovery(ours(), answer(last(12499, 8)), {}, utc()).state, S::unknown);
    EXPECT_EQ(decide_recovery(ours(), answer(last(999, 8, 0x6C)), {}, utc()).state, S::unknown);
}

TEST(RecoveryDecision, AnotherCurrencyStaysUnknown) {
    auto d = last(12500, 8);
    d.currency = 752;
    EXPECT_EQ(decide_recovery(ours(), answer(d), {}, utc()).state, S::unknown);
}

TEST(RecoveryDecision, ATimeOutsideThePaymentsWindowStaysUnknown) {
    auto d = last(12500, 8);
    d.date_mmdd = 1114;
    d.time_hhmmss = 180000;  // four hours before the payment started
    EXPECT_EQ(decide_recovery(ours(), answer(d), {}, utc()).state, S::unknown);
    d.date_mmdd = 1115;
    d.time_hhmmss = 10000;  // three hours after
    EXPECT_EQ(decide_recovery(ours(), answer(d), {}, utc()).state, S::unknown);
}

TEST(RecoveryDecision, NoAnswerFromTheTerminalStaysUnknown) {
    EXPECT_EQ(decide_recovery(ours(), answer(std::nullopt), {}, utc()).state, S::unknown);
    EXPECT_EQ(decide_recovery(ours(), answer(last(12500, 8), zvt::Outcome::rejected), {}, utc()).state, S::unknown);
}

TEST(RecoveryClock, TerminalWallClockAcrossNewYear) {
    // 2023-12-31 23:59:50 UTC; the terminal says 01-01 00:00:10 (next year): +20 s.
    const std::int64_t ms = 1704067190000;
    EXPECT_EQ(terminal_clock_delta_s(101, 10, ms, 0), 20);
    EXPECT_EQ(terminal_clock_delta_s(1231, 235940, ms, 0), -10);
    // Local time one hour ahead of UTC.
    EXPECT_EQ(terminal_clock_delta_s(101, 10000, ms, 3600), 10);
}

// decide_operation_recovery: a refund/reversal of the approved payment `sale()` (receipt 8)
// whose outcome the daemon did not see.
ledger::Payment sale() {
    auto p = ours();
    p.state = S::approved;
    p.terminal.receipt_no = 8;
    return p;
}

TEST(OperationRecovery, ANewerReceiptWithResult00OfTheSameAmountIsDone) {
    auto got = decide_operation_recovery(sale(), true, answer(last(12500, 9)));
    EXPECT_EQ(got.outcome, OperationOutcome::done) << got.evidence;
}

TEST(OperationRecovery, ThePaymentsOwnReceiptMeansTheCommandNeverRan) {
    auto got = decide_operation_recovery(sale(), false, answer(last(12500, 8)));
    EXPECT_EQ(got.outcome, OperationOutcome::not_done) << got.evidence;
}

TEST(OperationRecovery, AnAutoReversedRefundWasNotDone) {
    auto got = decide_operation_recovery(sale(), true, answer(last(12500, 9, zvt::rc::abort_timeout_or_key)));
    EXPECT_EQ(got.outcome, OperationOutcome::not_done) << got.evidence;
}

TEST(OperationRecovery, NoAnswerOrAnotherAmountStaysUndecided) {
    EXPECT_EQ(decide_operation_recovery(sale(), true, answer(std::nullopt, zvt::Outcome::unknown)).outcome,
              OperationOutcome::unknown);
    EXPECT_EQ(decide_operation_recovery(sale(), true, answer(last(9900, 9))).outcome, OperationOutcome::unknown);
}

}  // namespace
}  // namespace pb::daemon
