// [commitment_cards] and the card id the daemon derives from a card the terminal read (ZVT
// Read Card): only configured commitment cards are accepted, and a refused card's number is
// never repeated beyond its last four digits.
#include <gtest/gtest.h>

#include "daemon/card_read.hpp"
#include "daemon/config.hpp"

namespace pb::daemon {
namespace {

std::string with(const std::string& extra) { return "[ledger]\npath = \"/tmp/l.sqlite\"\n\n" + extra; }

TEST(CommitmentCards, ConfigIsReadAndDumped) {
    auto c = parse_config(with("[commitment_cards]\niins = [\"7700\", \"990012\"]\nid_prefix = \"SK-\"\nread_timeout_s = 20\n"),
                          "test.toml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    EXPECT_EQ(c->commitment_cards.iins, (std::vector<std::string>{"7700", "990012"}));
    EXPECT_EQ(c->commitment_cards.id_prefix, "SK-");
    EXPECT_EQ(c->commitment_cards.read_timeout_s, 20u);
    EXPECT_NE(redacted_dump(*c).find("commitment_cards.iins = [\"7700\", \"990012\"]"), std::string::npos);
    auto none = parse_config(with(""), "test.toml");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->commitment_cards.iins.empty());
}

TEST(CommitmentCards, BadValuesAreNamedWithKeyAndLine) {
    auto c = parse_config(with("[commitment_cards]\niins = [\"77A0\", 7700]\nid_prefix = \"S K\"\nread_timeout_s = 0\ncolour = 1\n"),
                          "test.toml");
    ASSERT_FALSE(c);
    std::string all;
    for (const auto& e : c.error()) all += e.to_string() + "\n";
    EXPECT_NE(all.find("commitment_cards.iins[0] (line 5"), std::string::npos) << all;
    EXPECT_NE(all.find("commitment_cards.iins[1]"), std::string::npos) << all;
    EXPECT_NE(all.find("commitment_cards.id_prefix"), std::string::npos) << all;
    EXPECT_NE(all.find("commitment_cards.read_timeout_s"), std::string::npos) << all;
    EXPECT_NE(all.find("colour"), std::string::npos) << all;
}

TEST(CommitmentCards, OnlyConfiguredCardNumbersBecomeCardIds) {
    CommitmentCardsConfig cards;
    cards.iins = {"7700", "990012"};
    cards.id_prefix = "SK-";
    EXPECT_EQ(commitment_card_id("7700112233=2612", cards).value_or(""), "SK-7700112233");
    EXPECT_EQ(commitment_card_id("9900123", cards).value_or(""), "SK-9900123");  // no separator: all of it is the number
    auto visa = commitment_card_id("4761739001010119=25121010000", cards);
    ASSERT_FALSE(visa);
    EXPECT_NE(visa.error().find("ending 0119"), std::string::npos) << visa.error();
    EXPECT_EQ(visa.error().find("476173"), std::string::npos) << visa.error();
    EXPECT_FALSE(commitment_card_id("=2612", cards));
    EXPECT_FALSE(commitment_card_id("", cards));
    cards.iins.clear();
    EXPECT_FALSE(commitment_card_id("7700112233=2612", cards)) << "nothing configured, nothing accepted";
}

}  // namespace
}  // namespace pb::daemon
