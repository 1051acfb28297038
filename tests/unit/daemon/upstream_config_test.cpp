// [upstream.*] of the daemon's config (issue 7): endpoints, credentials, deadlines and the
// outbox policy, each bad value named with its key and position; secrets redacted in dumps.
#include <gtest/gtest.h>

#include "daemon/config.hpp"

namespace pb::daemon {
namespace {

std::string with_upstream(const std::string& upstream) { return "[ledger]\npath = \"/tmp/l.sqlite\"\n\n" + upstream; }

TEST(UpstreamConfig, CommitmentServiceAndOutboxPolicy) {
    auto c = parse_config(with_upstream(R"([upstream.commitment]
url = "https://commit.example.com/api"
token = "s3cret-token"
timeout_ms = 2500

[upstream.outbox]
retry_initial_ms = 500
retry_max_ms = 60000
dead_after_hours = 48
)"),
                          "test.toml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    ASSERT_TRUE(c->upstream.commitment.has_value());
    EXPECT_EQ(c->upstream.commitment->url, "https://commit.example.com/api");
    EXPECT_EQ(c->upstream.commitment->timeout.count(), 2500);
    EXPECT_TRUE(c->upstream.commitment->verify_peer);
    EXPECT_EQ(c->upstream.outbox.retry_initial.count(), 500);
    EXPECT_EQ(c->upstream.outbox.dead_after.count(), 48);
    std::string dump = redacted_dump(*c);
    EXPECT_EQ(dump.find("s3cret-token"), std::string::npos) << dump;
    EXPECT_NE(dump.find("upstream.commitment.token = \"***\""), std::string::npos) << dump;
}

TEST(UpstreamConfig, NoSectionMeansNotConfigured) {
    auto c = parse_config(with_upstream(""), "test.toml");
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->upstream.commitment.has_value());
    EXPECT_EQ(c->upstream.outbox.retry_initial.count(), 1000);
    EXPECT_EQ(c->upstream.outbox.dead_after.count(), 72);
}

TEST(UpstreamConfig, BadValuesAreNamedWithTheirPlace) {
    struct Case {
        std::string text, key, words;
    };
    const std::vector<Case> cases{
        {"[upstream.commitment]\nurl = \"ftp://x\"\n", "upstream.commitment.url", "https://"},
        {"[upstream.commitment]\nurl = \"http://commit.example.com\"\n", "upstream.commitment.url", "loopback"},
        {"[upstream.commitment]\ntimeout_ms = 5\nurl = \"https://x\"\n", "upstream.commitment.timeout_ms", "50..120000"},
        {"[upstream.commitment]\n", "upstream.commitment.url", "missing"},
        {"[upstream.commitment]\nurl = \"https://x\"\nclient_cert = \"/nonexistent/c.pem\"\nclient_key = \"/nonexistent/k.pem\"\n",
         "upstream.commitment.client_cert", "no readable file"},
        {"[upstream.commitment]\nurl = \"https://x\"\ntokn = \"t\"\n", "upstream.commitment.tokn", "did you mean \"token\""},
        {"[upstream.outbox]\nretry_initial_ms = 5000\nretry_max_ms = 1000\n", "upstream.outbox.retry_max_ms", ">= retry_initial_ms"},
        {"[upstream.benefits]\nurl = \"https://x\"\n", "upstream.benefits", "unknown key"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text);
        auto r = parse_config(with_upstream(c.text), "test.toml");
        ASSERT_FALSE(r);
        bool found = false;
        for (const auto& e : r.error())
            if (e.key == c.key && e.to_string().find(c.words) != std::string::npos && e.line >= 4) found = true;
        std::string all;
        for (const auto& e : r.error()) all += e.to_string() + "\n";
        EXPECT_TRUE(found) << all;
    }
    // Plain http to a non-loopback host only when the config says so explicitly.
    auto allowed = parse_config(with_upstream("[upstream.commitment]\nallow_plain_http = true\nurl = \"http://10.0.0.5:8080\"\n"), "t");
    EXPECT_TRUE(allowed);
}

}  // namespace
}  // namespace pb::daemon
