// [upstream.ereceipt] of the daemon's config (issue 7): the e-receipt service plus its rules
// (jurisdiction, e-mail mode, QR display and no-choice times, retention), defaults from the
// seed, each bad value named with its key.
#include <gtest/gtest.h>

#include "daemon/config.hpp"

namespace pb::daemon {
namespace {

std::string with_upstream(const std::string& upstream) { return "[ledger]\npath = \"/tmp/l.sqlite\"\n\n" + upstream; }

TEST(EreceiptConfig, DefaultsFollowTheSeed) {
    auto c = parse_config(with_upstream("[upstream.ereceipt]\nurl = \"https://kvitto.example.se/api\"\n"), "test.toml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    ASSERT_TRUE(c->upstream.ereceipt.has_value());
    const auto& e = *c->upstream.ereceipt;
    EXPECT_EQ(e.qr_display.count(), 60000);      // "i en minut från att det första inslaget är gjort"
    EXPECT_EQ(e.choice_timeout.count(), 30000);  // "automatiskt ... efter 30 sekunder"
    EXPECT_EQ(e.retention_days, 30);             // "totalt 30 dagar"
    EXPECT_FALSE(e.email_link);                  // "standardinställningen bifogad PDF"
    EXPECT_EQ(e.jurisdiction, "SE");
    EXPECT_TRUE(e.waste_basket_allowed());
    EXPECT_EQ(e.public_url, "https://kvitto.example.se/api/r/");
    EXPECT_NE(redacted_dump(*c).find("upstream.ereceipt.choice_timeout_ms = 30000"), std::string::npos);
}

TEST(EreceiptConfig, NorwayForbidsTheWasteBasket) {
    auto c = parse_config(with_upstream(R"([upstream.ereceipt]
url = "https://kvitto.example.no"
jurisdiction = "NO"
email_mode = "link"
public_url = "https://k.example.no/k/"
qr_display_ms = 1500
choice_timeout_ms = 800
retention_days = 7
token = "hemmelig"
)"),
                          "test.toml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    const auto& e = *c->upstream.ereceipt;
    EXPECT_FALSE(e.waste_basket_allowed());
    EXPECT_TRUE(e.email_link);
    EXPECT_EQ(e.public_url, "https://k.example.no/k/");
    EXPECT_EQ(e.qr_display.count(), 1500);
    EXPECT_EQ(e.choice_timeout.count(), 800);
    EXPECT_EQ(e.retention_days, 7);
    EXPECT_EQ(redacted_dump(*c).find("hemmelig"), std::string::npos);
}

TEST(EreceiptConfig, BadValuesAreNamedWithTheirPlace) {
    struct Case {
        std::string text, key, words;
    };
    const std::string url = "url = \"https://k.example.se\"\n";
    const std::vector<Case> cases{
        {"[upstream.ereceipt]\n" + url + "jurisdiction = \"Norway\"\n", "upstream.ereceipt.jurisdiction", "ISO 3166"},
        {"[upstream.ereceipt]\n" + url + "email_mode = \"pdf\"\n", "upstream.ereceipt.email_mode", "attachment"},
        {"[upstream.ereceipt]\n" + url + "public_url = \"https://k.example.se/r\"\n", "upstream.ereceipt.public_url", "ending in /"},
        {"[upstream.ereceipt]\n" + url + "qr_display_ms = 0\n", "upstream.ereceipt.qr_display_ms", "100..3600000"},
        {"[upstream.ereceipt]\n" + url + "choice_timeout_ms = \"30s\"\n", "upstream.ereceipt.choice_timeout_ms", "integer"},
        {"[upstream.ereceipt]\n" + url + "retention_days = 0\n", "upstream.ereceipt.retention_days", "1..3650"},
        {"[upstream.ereceipt]\n" + url + "jurisdicton = \"NO\"\n", "upstream.ereceipt.jurisdicton", "did you mean \"jurisdiction\""},
        {"[upstream.ereceipt]\njurisdiction = \"NO\"\n", "upstream.ereceipt.url", "missing"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text);
        auto r = parse_config(with_upstream(c.text), "test.toml");
        ASSERT_FALSE(r);
        bool found = false;
        for (const auto& e : r.error())
            if (e.key == c.key && e.to_string().find(c.words) != std::string::npos) found = true;
        std::string all;
        for (const auto& e : r.error()) all += e.to_string() + "\n";
        EXPECT_TRUE(found) << all;
    }
}

}  // namespace
}  // namespace pb::daemon
