#include "protocol/core/bytes.hpp"

#include <gtest/gtest.h>

namespace pb {
namespace {

TEST(ByteReader, NeverReadsPastTheEnd) {
    const Bytes data{0x01, 0x02, 0x03};
    ByteReader r(data);
    EXPECT_EQ(r.u8(), 0x01);
    EXPECT_FALSE(r.bytes(3));  // only two left: refused, position unchanged
    EXPECT_EQ(r.remaining(), 2u);
    EXPECT_EQ(r.u16le(), 0x0302);
    EXPECT_FALSE(r.u8());
    EXPECT_FALSE(r.u16be());
}

TEST(ByteReader, DecodesBcdAndRejectsNonDecimalNibbles) {
    const Bytes amount{0x00, 0x00, 0x00, 0x00, 0x12, 0x34};
    ByteReader r(amount);
    EXPECT_EQ(r.bcd(6), 1234u);
    const Bytes bad{0x1A};
    ByteReader r2(bad);
    EXPECT_FALSE(r2.bcd(1));
    EXPECT_EQ(r2.remaining(), 1u);
}

TEST(Bcd, EncodesWithLeadingZeros) {
    Bytes out;
    put_bcd(out, 1234, 6);
    EXPECT_EQ(out, (Bytes{0, 0, 0, 0, 0x12, 0x34}));
    out.clear();
    put_bcd(out, 978, 2);
    EXPECT_EQ(out, (Bytes{0x09, 0x78}));
}

TEST(Hex, RoundTripsAndIgnoresSeparatorsAndComments) {
    EXPECT_EQ(from_hex("06 01 0A # authorisation\n04:00"), (Bytes{0x06, 0x01, 0x0A, 0x04, 0x00}));
    EXPECT_EQ(to_hex(Bytes{0x06, 0x0f}), "06 0f");
    EXPECT_EQ(to_hex(Bytes{0x06, 0x0f}, false), "060f");
    EXPECT_FALSE(from_hex("0"));
    EXPECT_FALSE(from_hex("zz"));
}

}  // namespace
}  // namespace pb
