// APDU, TCP reader, serial framing and TLV container (PA00P016 §3, §5.2; PA00P015 §9).
#include <gtest/gtest.h>

#include <string>

#include "protocol/zvt/apdu.hpp"
#include "protocol/zvt/serial_frame.hpp"
#include "protocol/zvt/tlv.hpp"

namespace pb::zvt {
namespace {

Bytes hex(std::string_view s) { return from_hex(s).value(); }

TEST(ZvtCrc, KermitCheckValue) {
    const std::string s = "123456789";
    EXPECT_EQ(crc16_kermit(Bytes(s.begin(), s.end())), 0x2189);
}

TEST(ZvtCrc, MatchesCapturedFrame) {
    // ecrterm test_version_completion: a real PT's frame ends B1 11 (CRC 0x11B1, low first).
    const Bytes apdu = hex("06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00");
    EXPECT_EQ(encode_serial_frame(apdu),
              hex("10 02 06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00 10 03 B1 11"));
}

TEST(ZvtSerial, StuffsDleInApduButNotInCrc) {
    EXPECT_EQ(encode_serial_frame(hex("05 01 00")), hex("10 02 05 01 00 10 03 10 06"));
    const auto d = decode_serial(hex("10 02 05 01 00 10 03 10 06"));
    ASSERT_TRUE(std::holds_alternative<SerialFrame>(d.result));
    EXPECT_EQ(std::get<SerialFrame>(d.result).apdu, hex("05 01 00"));
    EXPECT_EQ(d.consumed, 9u);
    const Bytes refund = hex("06 31 0D 12 34 56 04 00 00 00 00 10 00 49 09 78");
    EXPECT_EQ(encode_serial_frame(refund),
              hex("10 02 06 31 0D 12 34 56 04 00 00 00 00 10 10 00 49 09 78 10 03 58 C1"));
}

TEST(ZvtSerial, AckNakAndNeedMore) {
    EXPECT_TRUE(std::holds_alternative<AckByte>(decode_serial(hex("06")).result));
    EXPECT_TRUE(std::holds_alternative<NakByte>(decode_serial(hex("15")).result));
    EXPECT_TRUE(std::holds_alternative<NeedMore>(decode_serial({}).result));
    const auto d = decode_serial(hex("10 02 80 00 00 10 03 F5"));
    EXPECT_TRUE(std::holds_alternative<NeedMore>(d.result));
    EXPECT_EQ(d.consumed, 0u);
}

TEST(ZvtSerial, CrcErrorConsumesWholeFrameThenNextFrameDecodes) {
    const Bytes buf = hex("10 02 80 00 00 10 03 F5 1E  10 02 80 00 00 10 03 F5 1F");
    const auto bad = decode_serial(buf);
    ASSERT_TRUE(std::holds_alternative<DecodeError>(bad.result));
    EXPECT_EQ(std::get<DecodeError>(bad.result).code, Error::frame_crc_mismatch);
    EXPECT_EQ(bad.consumed, 9u);
    const auto good = decode_serial(ByteView(buf).subspan(bad.consumed));
    EXPECT_TRUE(std::holds_alternative<SerialFrame>(good.result));
}

TEST(ZvtSerial, ResynchronisesAfterGarbage) {
    const Bytes buf = hex("41 42 10 10 02 80 00 00 10 03 F5 1F");
    ByteView rest = buf;
    int garbage = 0;
    while (true) {
        const auto d = decode_serial(rest);
        if (auto* e = std::get_if<DecodeError>(&d.result)) {
            EXPECT_EQ(e->code, Error::frame_garbage);
            ++garbage;
            rest = rest.subspan(d.consumed);
            continue;
        }
        ASSERT_TRUE(std::holds_alternative<SerialFrame>(d.result));
        EXPECT_EQ(std::get<SerialFrame>(d.result).apdu, hex("80 00 00"));
        break;
    }
    EXPECT_EQ(garbage, 2);  // "41 42" and the DLE not followed by STX
}

TEST(ZvtSerial, NewFrameStartInsideFrameResyncs) {
    const Bytes buf = hex("10 02 06 01 10 02 80 00 00 10 03 F5 1F");
    const auto d = decode_serial(buf);
    ASSERT_TRUE(std::holds_alternative<DecodeError>(d.result));
    EXPECT_EQ(std::get<DecodeError>(d.result).code, Error::frame_bad_escape);
    EXPECT_EQ(d.consumed, 4u);
    EXPECT_TRUE(std::holds_alternative<SerialFrame>(
        decode_serial(ByteView(buf).subspan(4)).result));
}

TEST(ZvtSerial, TooLongFrameIsAnError) {
    Bytes buf = hex("10 02");
    buf.insert(buf.end(), 40, 0x41);
    const auto d = decode_serial(buf, 32);
    ASSERT_TRUE(std::holds_alternative<DecodeError>(d.result));
    EXPECT_EQ(std::get<DecodeError>(d.result).code, Error::frame_too_long);
    EXPECT_GT(d.consumed, 0u);
}

TEST(ZvtApdu, ExtendedLengthBothWays) {
    Apdu a{0x06, 0xD3, Bytes(300, 0x20)};
    const Bytes wire = encode_apdu(a);
    EXPECT_EQ(wire[2], 0xFF);
    EXPECT_EQ(wire[3], 300 & 0xFF);
    EXPECT_EQ(wire[4], 300 >> 8);
    EXPECT_EQ(decode_apdu(wire).value(), a);
    // Portalum ApduHelperTest: 04 0F FF 01 00 6C -> length 1 in extended form.
    const auto one = decode_apdu(hex("04 0F FF 01 00 6C"));
    ASSERT_TRUE(one);
    EXPECT_EQ(one->data, hex("6C"));
    // 254 is the longest short form.
    EXPECT_EQ(encode_apdu(Apdu{0x06, 0xD3, Bytes(254, 1)})[2], 254);
    EXPECT_EQ(encode_apdu(Apdu{0x06, 0xD3, Bytes(255, 1)})[2], 0xFF);
}

TEST(ZvtTcp, ReadsBackToBackApdusAndNeedsMore) {
    const Bytes buf = hex("80 00 00 04 FF 01 0A 06 0F");
    auto d = decode_tcp(buf);
    ASSERT_TRUE(std::holds_alternative<Apdu>(d.result));
    EXPECT_EQ(d.consumed, 3u);
    d = decode_tcp(ByteView(buf).subspan(3));
    ASSERT_TRUE(std::holds_alternative<Apdu>(d.result));
    EXPECT_EQ(std::get<Apdu>(d.result).data, hex("0A"));
    d = decode_tcp(ByteView(buf).subspan(7));
    EXPECT_TRUE(std::holds_alternative<NeedMore>(d.result));
    d = decode_tcp(hex("06 D3 FF 00"));
    EXPECT_TRUE(std::holds_alternative<NeedMore>(d.result));
}

TEST(ZvtTcp, AnnouncedLengthAboveLimitIsAnError) {
    const auto d = decode_tcp(hex("06 D3 FF 00 10"), 1024);
    ASSERT_TRUE(std::holds_alternative<DecodeError>(d.result));
    EXPECT_EQ(std::get<DecodeError>(d.result).code, Error::apdu_too_long);
    EXPECT_EQ(d.consumed, 5u);
}

TEST(ZvtTlv, MultiByteTagsBerLengthsAndNesting) {
    const auto t = decode_tlv(hex("1F 1F 00  1F 73 03 00 00 01  24 05 07 03 41 42 43"));
    ASSERT_TRUE(t) << t.error().to_string();
    ASSERT_EQ(t->size(), 3u);
    EXPECT_EQ((*t)[0].tag, tag::receipt_sync);
    EXPECT_TRUE((*t)[0].value.empty());
    EXPECT_EQ((*t)[1].tag, tag::msg_seq_id);
    EXPECT_EQ((*t)[1].value, hex("00 00 01"));
    EXPECT_TRUE((*t)[2].constructed());
    ASSERT_NE((*t)[2].find(tag::text_line), nullptr);
    EXPECT_EQ((*t)[2].find(tag::text_line)->text(), "ABC");

    std::vector<TlvNode> big{tlv_primitive(0x07, Bytes(200, 'x')), tlv_primitive(0x1F17, Bytes(300, 'y'))};
    const Bytes enc = encode_tlv(big);
    EXPECT_EQ(enc[1], 0x81);
    EXPECT_EQ(enc[2], 200);
    EXPECT_EQ(enc[3 + 200 + 2], 0x82);  // big-endian 82 01 2C
    EXPECT_EQ(enc[3 + 200 + 3], 0x01);
    EXPECT_EQ(enc[3 + 200 + 4], 0x2C);
    EXPECT_EQ(decode_tlv(enc).value(), big);
}

TEST(ZvtTlv, Limits) {
    EXPECT_EQ(decode_tlv(hex("1F 81 82 83 04 00")).error().code, Error::tlv_tag_too_long);
    EXPECT_EQ(decode_tlv(hex("07 83 00 00 01")).error().code, Error::tlv_bad_length);
    EXPECT_EQ(decode_tlv(hex("07 05 41")).error().code, Error::tlv_truncated);
    EXPECT_EQ(decode_tlv(hex("1F")).error().code, Error::tlv_truncated);
    EXPECT_EQ(decode_tlv(hex("07 82 01")).error().code, Error::tlv_truncated);
    EXPECT_EQ(decode_tlv(hex("E1 02 E1 00"), 1).error().code, Error::tlv_too_deep);
    EXPECT_TRUE(decode_tlv(hex("E1 02 E1 00"), 2));
    Bytes many;
    for (std::size_t i = 0; i <= kMaxTlvElements; ++i) {
        many.push_back(0x07);
        many.push_back(0x00);
    }
    EXPECT_EQ(decode_tlv(many).error().code, Error::tlv_too_many);
    const auto e = decode_tlv(hex("07 01 41 07 05 41"));
    EXPECT_EQ(e.error().offset, 5u);
}

TEST(ZvtError, MessageNamesEveryEnumerator) {
    for (int i = 0; i <= static_cast<int>(Error::tlv_too_many); ++i) {
        const auto e = static_cast<Error>(i);
        EXPECT_NE(error_name(e), "unknown_error");
        EXPECT_FALSE(error_message(e).empty());
    }
    const DecodeError d{Error::frame_crc_mismatch, 14, "expected 11b1, got 11b2"};
    EXPECT_EQ(d.to_string(),
              "frame_crc_mismatch at byte 14: CRC of serial frame does not match (expected 11b1, got 11b2)");
}

}  // namespace
}  // namespace pb::zvt
