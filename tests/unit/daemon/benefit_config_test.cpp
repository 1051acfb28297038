// [upstream.benefit] of the daemon's config (issue 7): the service, the shop's provider id and
// the voucher windows (seed defaults 15 minutes / 1 hour / 7 days), each bad value named.
#include <gtest/gtest.h>

#include "daemon/config.hpp"

namespace pb::daemon {
namespace {

std::string with_upstream(const std::string& upstream) { return "[ledger]\npath = \"/tmp/l.sqlite\"\n\n" + upstream; }

TEST(BenefitConfig, DefaultsAreTheSeedsWindows) {
    auto c = parse_config(with_upstream("[upstream.benefit]\nurl = \"https://benefit.example.com\"\nprovider_id = \"EP-1\"\n"
                                        "token = \"t0ps3cret\"\n"),
                          "test.toml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    ASSERT_TRUE(c->upstream.benefit.has_value());
    const auto& b = *c->upstream.benefit;
    EXPECT_EQ(b.provider_id, "EP-1");
    EXPECT_EQ(b.service.url, "https://benefit.example.com");
    EXPECT_EQ(b.valid.count(), 15);
    EXPECT_EQ(b.cancel.count(), 60);
    EXPECT_EQ(b.credit.count(), 7 * 24);
    EXPECT_FALSE(c->upstream.commitment.has_value());
    std::string dump = redacted_dump(*c);
    EXPECT_EQ(dump.find("t0ps3cret"), std::string::npos) << dump;
    EXPECT_NE(dump.find("upstream.benefit.provider_id = \"EP-1\""), std::string::npos) << dump;
    EXPECT_NE(dump.find("upstream.benefit.credit_days = 7"), std::string::npos) << dump;
}

TEST(BenefitConfig, WindowsAreConfigurable) {
    auto c = parse_config(with_upstream("[upstream.benefit]\nurl = \"http://127.0.0.1:9\"\nprovider_id = \"EP-1\"\n"
                                        "valid_minutes = 30\ncancel_minutes = 120\ncredit_days = 14\n"),
                          "test.toml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    EXPECT_EQ(c->upstream.benefit->valid.count(), 30);
    EXPECT_EQ(c->upstream.benefit->cancel.count(), 120);
    EXPECT_EQ(c->upstream.benefit->credit.count(), 14 * 24);
}

TEST(BenefitConfig, BadValuesAreNamedWithTheirPlace) {
    struct Case {
        std::string text, key, words;
    };
    const std::vector<Case> cases{
        {"[upstream.benefit]\nurl = \"https://x\"\n", "upstream.benefit.provider_id", "missing"},
        {"[upstream.benefit]\nurl = \"https://x\"\nprovider_id = \"P\"\nvalid_minutes = 0\n", "upstream.benefit.valid_minutes", "1.."},
        {"[upstream.benefit]\nurl = \"https://x\"\nprovider_id = \"P\"\ncredit_days = 400\n", "upstream.benefit.credit_days", "1..366"},
        {"[upstream.benefit]\nurl = \"https://x\"\nprovider = \"P\"\n", "upstream.benefit.provider", "unknown key"},
        {"[upstream.benefit]\nprovider_id = \"P\"\nurl = \"http://benefit.example.com\"\n", "upstream.benefit.url", "loopback"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text);
        auto r = parse_config(with_upstream(c.text), "test.toml");
        ASSERT_FALSE(r);
        bool found = false;
        std::string all;
        for (const auto& e : r.error()) {
            if (e.key == c.key && e.to_string().find(c.words) != std::string::npos) found = true;
            all += e.to_string() + "\n";
        }
        EXPECT_TRUE(found) << all;
    }
}

}  // namespace
}  // namespace pb::daemon
