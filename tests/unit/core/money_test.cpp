#include "protocol/core/money.hpp"

#include <gtest/gtest.h>

namespace pb {
namespace {

TEST(Currency, LooksUpByCodeAndNumeric) {
    auto sek = currency_from_code("SEK");
    ASSERT_TRUE(sek);
    EXPECT_EQ(sek->numeric, 752);
    EXPECT_EQ(sek->exponent, 2);
    auto eur = currency_from_numeric(978);
    ASSERT_TRUE(eur);
    EXPECT_EQ(eur->code(), "EUR");
    EXPECT_FALSE(currency_from_code("XXX"));
    EXPECT_FALSE(currency_from_code("sek"));
    EXPECT_FALSE(currency_from_numeric(999));
}

TEST(Money, FormatsWithTheCurrencyExponent) {
    EXPECT_EQ(format_money({12345, *currency_from_code("SEK")}), "123.45 SEK");
    EXPECT_EQ(format_money({5, *currency_from_code("EUR")}), "0.05 EUR");
    EXPECT_EQ(format_money({-100, *currency_from_code("NOK")}), "-1.00 NOK");
    EXPECT_EQ(format_money({1500, *currency_from_code("ISK")}), "1500 ISK");
}

TEST(Money, ParsesMajorUnitsExactly) {
    const auto sek = *currency_from_code("SEK");
    EXPECT_EQ(parse_major_units("12.30", sek), 1230);
    EXPECT_EQ(parse_major_units("12.3", sek), 1230);
    EXPECT_EQ(parse_major_units("12", sek), 1200);
    EXPECT_EQ(parse_major_units("0.01", sek), 1);
    EXPECT_EQ(parse_major_units("-1.5", sek), -150);
    EXPECT_FALSE(parse_major_units("12.345", sek));  // more precision than öre
    EXPECT_FALSE(parse_major_units("1e3", sek));
    EXPECT_FALSE(parse_major_units("", sek));
    EXPECT_FALSE(parse_major_units(".5", sek));
    EXPECT_FALSE(parse_major_units("5.", sek));
    EXPECT_FALSE(parse_major_units("99999999999999999999", sek));
}

}  // namespace
}  // namespace pb
