// The business date (daemon/business_day.hpp): [ledger] timezone and day_starts_at.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "daemon/business_day.hpp"

namespace pb::daemon {
namespace {

using std::chrono::minutes;

// 2026-11-23T23:30:00Z and 2026-03-29 (the EU's spring-forward Sunday) 00:30:00Z.
constexpr std::int64_t kLateEvening = 1795476600000;
constexpr std::int64_t kSpringForward = 1774744200000;

/// Restores the process's TZ after each test: other tests in this binary format local times.
class BusinessDay : public ::testing::Test {
protected:
    void SetUp() override {
        if (const char* tz = std::getenv("TZ")) saved_ = tz;
    }
    void TearDown() override {
        if (saved_)
            ::setenv("TZ", saved_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    std::optional<std::string> saved_;
};

TEST_F(BusinessDay, PosixTzOfTheConfigForms) {
    EXPECT_EQ(posix_tz("UTC"), "UTC0");
    EXPECT_EQ(posix_tz("+01:00"), "<+0100>-01:00");
    EXPECT_EQ(posix_tz("-05:30"), "<-0530>+05:30");
    EXPECT_EQ(posix_tz("Europe/Stockholm"), "Europe/Stockholm");
}

TEST_F(BusinessDay, FixedOffsetsMoveTheDateAcrossMidnight) {
    apply_timezone("UTC");
    EXPECT_EQ(business_date(kLateEvening, minutes(0)), "2026-11-23");
    apply_timezone("+01:00");
    EXPECT_EQ(business_date(kLateEvening, minutes(0)), "2026-11-24");
    apply_timezone("-05:30");
    EXPECT_EQ(business_date(kLateEvening, minutes(0)), "2026-11-23");
}

TEST_F(BusinessDay, ADayStartingAfterMidnightKeepsTheSmallHoursOnThePreviousDay) {
    apply_timezone("+01:00");  // 00:30 local
    EXPECT_EQ(business_date(kLateEvening, minutes(4 * 60)), "2026-11-23");
    EXPECT_EQ(business_date(kLateEvening, minutes(30)), "2026-11-24");  // exactly the start
    EXPECT_EQ(business_date(kLateEvening, minutes(31)), "2026-11-23");
}

TEST_F(BusinessDay, DaylightSavingChangeIsCountedOnTheWallClock) {
    if (!std::filesystem::exists("/usr/share/zoneinfo/Europe/Stockholm")) GTEST_SKIP() << "no tzdata";
    apply_timezone("Europe/Stockholm");
    // 00:30Z on 29 March 2026 is 01:30 CET; 02:00 becomes 03:00 that night. With the day
    // starting at 02:00 wall time, 01:30 still belongs to the 28th.
    EXPECT_EQ(business_date(kSpringForward, minutes(0)), "2026-03-29");
    EXPECT_EQ(business_date(kSpringForward, minutes(120)), "2026-03-28");
    // 01:30Z is 03:30 CEST, after the day's start at 02:00 (which never happened on the wall).
    EXPECT_EQ(business_date(kSpringForward + 3600000, minutes(120)), "2026-03-29");
}

}  // namespace
}  // namespace pb::daemon
