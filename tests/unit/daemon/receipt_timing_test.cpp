// The e-receipt clock rules (daemon/receipt_timing.hpp) with a fake clock: QR display from the
// first line, the no-choice window after the payment, the retention and the daily deletion.
#include <gtest/gtest.h>

#include "daemon/receipt_timing.hpp"

namespace pb::daemon {
namespace {

struct FakeClock {
    std::int64_t now = 1'790'000'000'000;
    std::function<std::int64_t()> fn() {
        return [this] { return now; };
    }
};

TEST(ReceiptTiming, DefaultsAreTheSeeds) {
    ReceiptTimes t;
    EXPECT_EQ(t.qr_display.count(), 60'000);
    EXPECT_EQ(t.choice_timeout.count(), 30'000);
    EXPECT_EQ(t.retention.count(), 30LL * 24 * 3600 * 1000);
    EXPECT_EQ(t.purge_every.count(), 24LL * 3600 * 1000);
}

TEST(ReceiptTiming, QrIsShownSixtySecondsFromTheFirstLineAndKeptThirtyDays) {
    FakeClock clock;
    ReceiptTiming timing({}, clock.fn());
    EXPECT_EQ(timing.display_until(clock.now), clock.now + 60'000);
    EXPECT_EQ(timing.delete_after(clock.now), clock.now + 30LL * 86'400'000);
}

TEST(ReceiptTiming, NoChoiceWithinThirtySecondsAfterPaymentMakesItDue) {
    FakeClock clock;
    ReceiptTiming timing({}, clock.fn());
    timing.purged();  // the start-up deletion ran
    const std::int64_t paid = clock.now;
    timing.paid("A", paid);
    EXPECT_TRUE(timing.waiting("A"));
    EXPECT_EQ(timing.next_due(), paid + 30'000);
    clock.now = paid + 29'999;
    EXPECT_TRUE(timing.take_due().empty());
    clock.now = paid + 30'000;
    EXPECT_EQ(timing.take_due(), std::vector<std::string>{"A"});
    EXPECT_FALSE(timing.waiting("A"));
    EXPECT_TRUE(timing.take_due().empty()) << "a receipt is finalised once";
}

TEST(ReceiptTiming, AChoiceCancelsTheWindow) {
    FakeClock clock;
    ReceiptTiming timing({}, clock.fn());
    timing.purged();
    timing.paid("A", clock.now);
    timing.paid("B", clock.now + 1000);
    timing.chosen("A");
    clock.now += 31'000;
    EXPECT_EQ(timing.take_due(), std::vector<std::string>{"B"});
}

TEST(ReceiptTiming, ALaterPaymentOfTheSaleMovesTheWindowAndDueOnesComeOldestFirst) {
    FakeClock clock;
    ReceiptTiming timing({}, clock.fn());
    timing.purged();
    const std::int64_t t0 = clock.now;
    timing.paid("split", t0);
    timing.paid("split", t0 + 20'000);  // split tender: the card pays the rest 20 s later
    timing.paid("split", t0 + 10'000);  // an older approval seen late moves nothing back
    timing.paid("other", t0 + 5'000);
    clock.now = t0 + 35'000;
    EXPECT_EQ(timing.take_due(), std::vector<std::string>{"other"});
    clock.now = t0 + 50'000;
    EXPECT_EQ(timing.take_due(), std::vector<std::string>{"split"});
    timing.paid("b", clock.now + 1);
    timing.paid("a", clock.now);
    clock.now += 31'000;
    EXPECT_EQ(timing.take_due(), (std::vector<std::string>{"a", "b"}));
}

TEST(ReceiptTiming, ConfiguredTimesAreUsed) {
    FakeClock clock;
    ReceiptTiming timing({std::chrono::milliseconds(1500), std::chrono::milliseconds(800), std::chrono::hours(24),
                          std::chrono::hours(24)},
                         clock.fn());
    EXPECT_EQ(timing.display_until(clock.now), clock.now + 1500);
    timing.purged();
    timing.paid("A", clock.now);
    clock.now += 799;
    EXPECT_TRUE(timing.take_due().empty());
    clock.now += 1;
    EXPECT_EQ(timing.take_due().size(), 1u);
}

TEST(ReceiptTiming, DeletionRunsAtStartThenDaily) {
    FakeClock clock;
    ReceiptTiming timing({}, clock.fn());
    EXPECT_TRUE(timing.purge_due()) << "at start";
    EXPECT_EQ(timing.next_due(), 0);
    timing.purged();
    EXPECT_FALSE(timing.purge_due());
    EXPECT_EQ(timing.next_due(), clock.now + 86'400'000);
    clock.now += 86'400'000 - 1;
    EXPECT_FALSE(timing.purge_due());
    clock.now += 1;
    EXPECT_TRUE(timing.purge_due());
}

}  // namespace
}  // namespace pb::daemon
