// Fault settings of `paybridge-sim upstream` (control port `fault set`): parsing and scope.
#include <gtest/gtest.h>

#include "simulators/upstream/server.hpp"

namespace pb::sim::upstream {
namespace {

TEST(UpstreamFaults, SetClearAndDescribe) {
    Faults f;
    ASSERT_TRUE(f.set("slow=300"));
    ASSERT_TRUE(f.set("http_5xx=2"));
    ASSERT_TRUE(f.set("drop_reply"));
    ASSERT_TRUE(f.set("path=/v1/commitments/receipts"));
    EXPECT_EQ(f.slow_ms, 300);
    EXPECT_EQ(f.http_5xx, 2);
    EXPECT_EQ(f.drop_reply, 1);
    EXPECT_EQ(f.describe(), "slow=300 http_5xx=2 drop_reply=1 path=/v1/commitments/receipts");
    EXPECT_TRUE(f.applies("/v1/commitments/receipts"));
    EXPECT_FALSE(f.applies("/v1/commitments/debit"));
    ASSERT_TRUE(f.clear("http_5xx"));
    EXPECT_EQ(f.http_5xx, 0);
    ASSERT_TRUE(f.clear(""));
    EXPECT_EQ(f.describe(), "");
    EXPECT_TRUE(f.applies("/anything"));
}

TEST(UpstreamFaults, BadSettingsAreRefusedWithTheReason) {
    Faults f;
    auto r = f.set("slow");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("slow"), std::string::npos);
    EXPECT_FALSE(f.set("http_5xx=abc"));
    EXPECT_FALSE(f.set("path=receipts"));
    auto u = f.set("explode");
    ASSERT_FALSE(u);
    EXPECT_NE(u.error().find("unknown fault"), std::string::npos);
    EXPECT_FALSE(f.clear("explode"));
    EXPECT_EQ(f.describe(), "");
}

}  // namespace
}  // namespace pb::sim::upstream
