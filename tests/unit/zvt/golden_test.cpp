// Golden vectors from the spec and from captures of real terminals (tests/data/zvt/*.hex):
// each decodes, re-encodes to the same bytes, and survives both framings fed whole, split at
// every offset and byte by byte; every known-bad input gives its specific error at every split.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "protocol/zvt/message.hpp"
#include "protocol/zvt/serial_frame.hpp"
#include "tests/unit/zvt/vectors.hpp"

namespace pb::zvt {
namespace {

using test::load_vectors;
using test::Vector;

DecodeContext context_of(const Vector& v) {
    auto it = v.notes.find("context");
    if (it != v.notes.end() && it->second == "status_enquiry") return {Command::status_enquiry};
    return {};
}

// Outcome of feeding `chunks` through an incremental decoder as a link would: append, decode
// while something is complete, drop what was consumed.
template <class Result, class Decode>
std::vector<Result> feed(const std::vector<ByteView>& chunks, Decode decode) {
    std::vector<Result> out;
    Bytes buf;
    for (ByteView c : chunks) {
        buf.insert(buf.end(), c.begin(), c.end());
        while (true) {
            auto d = decode(ByteView(buf));
            if (std::holds_alternative<NeedMore>(d.result)) {
                EXPECT_EQ(d.consumed, 0u);
                break;
            }
            EXPECT_GT(d.consumed, 0u);
            buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(d.consumed));
            out.push_back(std::move(d));
        }
    }
    return out;
}

// Whole, every two-way split, and byte by byte.
std::vector<std::vector<ByteView>> splits(ByteView b) {
    std::vector<std::vector<ByteView>> all{{b}};
    for (std::size_t i = 1; i < b.size(); ++i) all.push_back({b.subspan(0, i), b.subspan(i)});
    std::vector<ByteView> bytes;
    for (std::size_t i = 0; i < b.size(); ++i) bytes.push_back(b.subspan(i, 1));
    all.push_back(bytes);
    return all;
}

TEST(ZvtGolden, AtLeastTwentyFiveVectors) {
    EXPECT_GE(load_vectors("golden.hex").size(), 25u);
}

TEST(ZvtGolden, DecodeAndReencode) {
    for (const auto& v : load_vectors("golden.hex")) {
        SCOPED_TRACE(v.name);
        const auto apdu = decode_apdu(v.bytes);
        ASSERT_TRUE(apdu) << apdu.error().to_string();
        const auto m = decode_message(*apdu, context_of(v));
        ASSERT_TRUE(m) << m.error().to_string();
        const Bytes again = encode_apdu(encode_message(*m));
        if (!v.notes.count("lossy")) {
            EXPECT_EQ(to_hex(again), to_hex(v.bytes));
        }
        const auto m2 = decode_message(decode_apdu(again).value(), context_of(v));
        ASSERT_TRUE(m2);
        EXPECT_EQ(*m2, *m);
    }
}

TEST(ZvtGolden, EveryCommandOfTheIssueIsCovered) {
    std::set<Command> seen;
    for (const auto& v : load_vectors("golden.hex"))
        seen.insert(decode_message(decode_apdu(v.bytes).value(), context_of(v)).value().command);
    for (Command c : {Command::registration, Command::authorisation, Command::log_off,
                      Command::repeat_receipt, Command::pre_authorisation, Command::book_total,
                      Command::pre_auth_reversal, Command::reversal, Command::refund,
                      Command::end_of_day, Command::diagnosis, Command::abort,
                      Command::status_enquiry, Command::intermediate_status,
                      Command::status_information, Command::print_line,
                      Command::print_text_block, Command::completion, Command::abort_from_pt,
                      Command::positive_ack, Command::negative_ack, Command::read_card,
                      Command::unknown})
        EXPECT_TRUE(seen.count(c)) << command_name(c);
}

TEST(ZvtGolden, SerialFramingAtEverySplit) {
    for (const auto& v : load_vectors("golden.hex")) {
        SCOPED_TRACE(v.name);
        const Bytes frame = encode_serial_frame(v.bytes);
        for (const auto& chunks : splits(frame)) {
            const auto out = feed<SerialDecode>(chunks, [](ByteView b) { return decode_serial(b); });
            ASSERT_EQ(out.size(), 1u) << chunks.size() << " chunks";
            ASSERT_TRUE(std::holds_alternative<SerialFrame>(out[0].result));
            EXPECT_EQ(std::get<SerialFrame>(out[0].result).apdu, v.bytes);
        }
    }
}

TEST(ZvtGolden, TcpFramingAtEverySplit) {
    for (const auto& v : load_vectors("golden.hex")) {
        SCOPED_TRACE(v.name);
        // Two copies back to back: the reader must find both boundaries.
        Bytes stream = v.bytes;
        stream.insert(stream.end(), v.bytes.begin(), v.bytes.end());
        for (const auto& chunks : splits(stream)) {
            const auto out = feed<TcpDecode>(chunks, [](ByteView b) { return decode_tcp(b); });
            ASSERT_EQ(out.size(), 2u);
            for (const auto& r : out) {
                ASSERT_TRUE(std::holds_alternative<Apdu>(r.result));
                EXPECT_EQ(encode_apdu(std::get<Apdu>(r.result)), v.bytes);
            }
        }
    }
}

TEST(ZvtGolden, CapturedSerialFrames) {
    for (const auto& v : load_vectors("serial.hex")) {
        SCOPED_TRACE(v.name);
        for (const auto& chunks : splits(v.bytes)) {
            const auto out = feed<SerialDecode>(chunks, [](ByteView b) { return decode_serial(b); });
            ASSERT_EQ(out.size(), 1u);
            ASSERT_TRUE(std::holds_alternative<SerialFrame>(out[0].result));
            const Bytes& apdu = std::get<SerialFrame>(out[0].result).apdu;
            EXPECT_TRUE(decode_apdu(apdu));
            EXPECT_EQ(encode_serial_frame(apdu), v.bytes);  // our encoder produces the same frame
        }
    }
}

Error error_named(const std::string& name) {
    for (int i = 0; i <= static_cast<int>(Error::tlv_too_many); ++i)
        if (error_name(static_cast<Error>(i)) == name) return static_cast<Error>(i);
    ADD_FAILURE() << "no error " << name;
    return Error::field_invalid;
}

TEST(ZvtGolden, KnownBadInputGivesItsErrorAtEverySplit) {
    const auto vectors = load_vectors("invalid.hex");
    ASSERT_GE(vectors.size(), 18u);
    for (const auto& v : vectors) {
        SCOPED_TRACE(v.name);
        const std::string expect = v.notes.at("expect");
        const std::string layer = expect.substr(0, expect.find(' '));
        const Error want = error_named(expect.substr(expect.find(' ') + 1));
        if (layer == "serial") {
            for (const auto& chunks : splits(v.bytes)) {
                const auto out = feed<SerialDecode>(chunks, [](ByteView b) { return decode_serial(b); });
                ASSERT_FALSE(out.empty());
                ASSERT_TRUE(std::holds_alternative<DecodeError>(out[0].result));
                EXPECT_EQ(std::get<DecodeError>(out[0].result).code, want);
            }
        } else if (layer == "apdu") {
            const auto a = decode_apdu(v.bytes);
            ASSERT_FALSE(a);
            EXPECT_EQ(a.error().code, want);
        } else {
            ASSERT_EQ(layer, "message");
            const auto a = decode_apdu(v.bytes);
            ASSERT_TRUE(a);
            const auto m = decode_message(*a);
            ASSERT_FALSE(m);
            EXPECT_EQ(m.error().code, want) << m.error().to_string();
            // The same error whatever way the bytes arrive, over either framing.
            const Bytes frame = encode_serial_frame(v.bytes);
            for (const auto& chunks : splits(frame)) {
                const auto out = feed<SerialDecode>(chunks, [](ByteView b) { return decode_serial(b); });
                ASSERT_EQ(out.size(), 1u);
                const auto& f = std::get<SerialFrame>(out[0].result);
                EXPECT_EQ(decode_message(decode_apdu(f.apdu).value()).error().code, want);
            }
            for (const auto& chunks : splits(v.bytes)) {
                const auto out = feed<TcpDecode>(chunks, [](ByteView b) { return decode_tcp(b); });
                ASSERT_EQ(out.size(), 1u);
                EXPECT_EQ(decode_message(std::get<Apdu>(out[0].result)).error().code, want);
            }
        }
    }
}

TEST(ZvtGolden, LengthMismatchOverTcpNeverYieldsAWrongApdu) {
    // Too short: the reader waits for the announced bytes, whatever the split.
    const auto shorter = test::find_vector("invalid.hex", "print_line_too_short");
    for (const auto& chunks : splits(shorter.bytes))
        EXPECT_TRUE((feed<TcpDecode>(chunks, [](ByteView b) { return decode_tcp(b); }).empty()));
}

}  // namespace
}  // namespace pb::zvt
