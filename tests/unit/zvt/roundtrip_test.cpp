// encode -> decode round trips over randomly generated messages of every command.
#include <gtest/gtest.h>

#include <random>

#include "protocol/zvt/message.hpp"
#include "protocol/zvt/serial_frame.hpp"

namespace pb::zvt {
namespace {

constexpr std::uint16_t kCurrencies[] = {978, 752, 578, 208, 840, 826};

class Gen {
public:
    explicit Gen(std::uint32_t seed) : rng_(seed) {}

    std::uint64_t upto(std::uint64_t max) { return std::uniform_int_distribution<std::uint64_t>(0, max)(rng_); }
    bool coin() { return upto(1) == 1; }
    std::uint8_t byte() { return static_cast<std::uint8_t>(upto(255)); }
    std::string text(std::size_t max, bool nul_free = true) {
        std::string s(upto(max), ' ');
        for (auto& c : s) c = static_cast<char>(nul_free ? 0x20 + upto(0x5E) : upto(255));
        return s;
    }
    Bytes bytes(std::size_t max) {
        Bytes b(upto(max));
        for (auto& x : b) x = byte();
        return b;
    }

    std::vector<TlvNode> tlv(int depth = 0) {
        std::vector<TlvNode> out(upto(3));
        for (auto& n : out) {
            static constexpr std::uint32_t prim[] = {0x07, 0x09, 0x14, 0x1F07, 0x1F16, 0x1F17,
                                                     0x1F1F, 0x1F73, 0x1F2B, 0x43};
            if (depth < 3 && upto(3) == 0) {
                static constexpr std::uint32_t cons[] = {0x24, 0x25, 0x26, 0x60, 0x2F, 0xE1};
                n = tlv_constructed(cons[upto(5)], tlv(depth + 1));
            } else {
                n = tlv_primitive(prim[upto(9)], bytes(upto(4) == 0 ? 300 : 20));
            }
        }
        return out;
    }

    Fields fields() {
        Fields f;
        if (coin()) f.timeout_s = byte();
        if (coin()) f.max_status_infos = byte();
        if (coin()) f.service_byte = byte();
        if (coin()) f.amount = static_cast<std::int64_t>(upto(999999999999ULL));
        if (coin()) f.pump = byte();
        if (coin()) f.tlv = tlv();
        if (coin()) f.trace = static_cast<std::uint32_t>(upto(999999));
        if (coin()) f.time_hhmmss = static_cast<std::uint32_t>(upto(235959));
        if (coin()) f.date_mmdd = static_cast<std::uint16_t>(upto(1231));
        if (coin()) f.expiry_yymm = static_cast<std::uint16_t>(upto(9912));
        if (coin()) f.card_sequence = static_cast<std::uint16_t>(upto(9999));
        if (coin()) f.payment_type = byte();
        if (coin()) f.masked_pan = std::string(6, '4') + std::string(2 + upto(6), '*') + "1234";
        if (coin()) f.result_code = byte();
        if (coin()) f.tid = static_cast<std::uint32_t>(upto(99999999));
        if (coin()) f.vu_number = text(15);
        if (coin()) f.original_trace = static_cast<std::uint32_t>(upto(999999));
        if (coin()) f.aid = text(8);
        if (coin()) f.additional_text = text(upto(5) == 0 ? 999 : 40, false);
        if (coin()) f.password = static_cast<std::uint32_t>(upto(999999));
        if (coin()) f.currency = static_cast<std::uint16_t>(upto(999));
        if (coin()) {
            EodTotals t;
            t.receipt_from = static_cast<std::uint16_t>(upto(9999));
            t.receipt_to = static_cast<std::uint16_t>(upto(9999));
            for (auto* b : {&t.girocard, &t.jcb, &t.mastercard, &t.amex, &t.visa, &t.diners, &t.others})
                *b = {byte(), static_cast<std::int64_t>(upto(999999999999ULL))};
            f.totals = t;
        }
        if (coin()) f.receipt_no = upto(9) == 0 ? std::uint16_t{0xFFFF} : static_cast<std::uint16_t>(upto(9999));
        if (coin()) f.turnover_no = static_cast<std::uint32_t>(upto(999999));
        if (coin()) f.card_type = byte();
        if (coin()) f.card_name = text(60);
        if (coin()) f.card_type_network = byte();
        if (coin()) f.result_code_as = byte();
        if (coin()) f.date_yymmdd = static_cast<std::uint32_t>(upto(991231));
        if (coin()) {
            Bytes b(5);
            for (auto& x : b) x = byte();
            f.aid_parameter = b;
        }
        if (coin()) f.card_output = byte();
        if (coin()) f.other.emplace_back(0x92, bytes(30));   // LLLVAR kept raw
        if (coin()) f.other.emplace_back(0xEB, Bytes(8, byte()));  // 8 bytes binary
        return f;
    }

    Message message(Command c) {
        Message m;
        m.command = c;
        m.control = static_cast<std::uint16_t>(c);
        switch (c) {
            case Command::registration:
                m.password = static_cast<std::uint32_t>(upto(999999));
                m.config_byte = byte();
                m.fields.service_byte = coin() ? std::optional<std::uint8_t>(byte()) : std::nullopt;
                // Real codes only: a positional CC starting 03/06 would read as a BMP (§2.1).
                if (coin()) m.fields.currency = kCurrencies[upto(5)];
                if (coin()) m.fields.tlv = tlv();
                break;
            case Command::repeat_receipt:
            case Command::reversal:
            case Command::refund:
            case Command::end_of_day:
                m.password = static_cast<std::uint32_t>(upto(999999));
                m.fields = fields();
                break;
            case Command::status_enquiry:
                if (coin()) {
                    m.password = static_cast<std::uint32_t>(upto(999999));
                    m.fields = fields();
                }
                break;
            case Command::abort_from_pt:
                m.status = byte();
                m.fields = fields();
                if (m.status == 0x6F) m.fields.currency = kCurrencies[upto(5)];
                break;
            case Command::intermediate_status:
                m.status = byte();
                // §3.7 allows only [timeout][06 TLV] after the status.
                if (coin()) m.fields.tlv = tlv();
                if (coin()) {
                    // A timeout of 6 minutes followed by BMPs is ambiguous on the wire
                    // (PA00P015 §3.7); the decoder prefers BMPs, so do not generate it.
                    m.timeout_min = static_cast<std::uint8_t>(upto(99));
                    if (m.timeout_min == 6) m.timeout_min = 7;
                }
                break;
            case Command::print_line:
                m.print_attribute = byte();
                m.print_text = text(200);
                if (coin()) m.fields.tlv = std::vector<TlvNode>{tlv_primitive(0x1F07, {byte()})};
                break;
            case Command::negative_ack:
                m.status = byte();
                m.control = static_cast<std::uint16_t>(0x8400 | *m.status);
                if (coin()) m.fields.amount = static_cast<std::int64_t>(upto(999999));
                break;
            case Command::unknown:
                m.control = static_cast<std::uint16_t>(0x0F00 | byte());
                m.raw = bytes(40);
                break;
            default:
                m.fields = fields();
                break;
        }
        return m;
    }

private:
    std::mt19937 rng_;
};

TEST(ZvtRoundTrip, RandomMessagesOfEveryCommand) {
    Gen g(20240611);
    const Command all[] = {
        Command::registration, Command::authorisation, Command::log_off, Command::completion,
        Command::abort_from_pt, Command::repeat_receipt, Command::pre_authorisation,
        Command::partial_reversal, Command::book_total, Command::pre_auth_reversal,
        Command::reversal, Command::refund, Command::end_of_day, Command::diagnosis,
        Command::abort, Command::print_line, Command::print_text_block, Command::status_enquiry,
        Command::set_date_time_in_ecr, Command::status_information,
        Command::intermediate_status, Command::positive_ack, Command::negative_ack,
        Command::unknown};
    int checked = 0;
    for (int round = 0; round < 150; ++round) {
        for (Command c : all) {
            const Message m = g.message(c);
            const Apdu apdu = encode_message(m);
            const Bytes wire = encode_apdu(apdu);
            const auto back = decode_apdu(wire);
            ASSERT_TRUE(back);
            // Completion with a terminal status is the Status-Enquiry reply layout.
            const auto d = decode_message(*back, DecodeContext{Command::unknown});
            ASSERT_TRUE(d) << command_name(c) << ": " << d.error().to_string() << "\n" << to_hex(wire);
            EXPECT_EQ(*d, m) << command_name(c) << "\n" << to_hex(wire);
            // And through a serial frame.
            const auto s = decode_serial(encode_serial_frame(wire));
            ASSERT_TRUE(std::holds_alternative<SerialFrame>(s.result));
            EXPECT_EQ(std::get<SerialFrame>(s.result).apdu, wire);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 150 * 24);
}

TEST(ZvtRoundTrip, CompletionAfterStatusEnquiry) {
    Gen g(7);
    for (int i = 0; i < 200; ++i) {
        Message m;
        m.command = Command::completion;
        m.control = 0x060F;
        if (g.coin()) m.sw_version = g.text(60);
        m.status = g.byte();
        if (g.coin()) m.fields.tlv = g.tlv();
        const auto d = decode_message(encode_message(m), DecodeContext{Command::status_enquiry});
        ASSERT_TRUE(d) << d.error().to_string();
        EXPECT_EQ(*d, m);
    }
}

}  // namespace
}  // namespace pb::zvt
