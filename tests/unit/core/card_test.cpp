#include "protocol/core/card.hpp"

#include <gtest/gtest.h>

namespace pb {
namespace {

TEST(MaskedPan, NeverKeepsMoreThanFirstSixAndLastFour) {
    auto p = MaskedPan::from_digits("4111111111111111");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->str(), "411111******1111");
    EXPECT_EQ(p->leading_digits(), "411111");
}

TEST(MaskedPan, AcceptsTerminalMaskingNibbles) {
    auto p = MaskedPan::from_digits("6799EEEEEEEEE1234");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->str(), "6799*********1234");
    EXPECT_EQ(p->leading_digits(), "6799");
}

TEST(MaskedPan, ShortNumbersShowOnlyTheLastFour) {
    auto p = MaskedPan::from_digits("1234567890");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->str(), "******7890");
}

TEST(MaskedPan, RejectsOtherCharactersAndOverlongNumbers) {
    EXPECT_FALSE(MaskedPan::from_digits("4111-1111"));
    EXPECT_FALSE(MaskedPan::from_digits("41111111111111111111"));
}

TEST(CardBrand, IdsRoundTrip) {
    for (auto b : {CardBrand::visa, CardBrand::mastercard, CardBrand::amex, CardBrand::diners,
                   CardBrand::maestro, CardBrand::dankort, CardBrand::unknown}) {
        EXPECT_EQ(brand_from_id(brand_id(b)), b);
    }
    EXPECT_EQ(brand_name(CardBrand::amex), "American Express");
    EXPECT_FALSE(brand_from_id("nosuch"));
}

}  // namespace
}  // namespace pb
