// Real captures decoded field by field (sources in tests/data/zvt/golden.hex).
#include <gtest/gtest.h>

#include "protocol/zvt/fields.hpp"
#include "protocol/zvt/message.hpp"
#include "protocol/zvt/tables.hpp"
#include "tests/unit/zvt/vectors.hpp"

namespace pb::zvt {
namespace {

Message golden(const std::string& name, Command reply_to = Command::unknown) {
    const auto v = test::find_vector("golden.hex", name);
    auto m = decode_message(decode_apdu(v.bytes).value(), DecodeContext{reply_to});
    EXPECT_TRUE(m) << name << ": " << m.error().to_string();
    return m ? *m : Message{};
}

TEST(ZvtFields, StatusInformationMaestroCardComplete) {
    const Message m = golden("status_information_maestro");
    EXPECT_EQ(m.command, Command::status_information);
    const Fields& f = m.fields;
    EXPECT_EQ(f.result_code, 0x00);
    EXPECT_EQ(f.amount, 2040);
    EXPECT_EQ(f.trace, 470u);
    EXPECT_EQ(f.time_hhmmss, 223953u);
    EXPECT_EQ(f.date_mmdd, 1006);
    EXPECT_EQ(f.expiry_yymm, 2512);
    EXPECT_EQ(f.card_sequence, 1);
    EXPECT_EQ(f.payment_type, 0x70);
    EXPECT_EQ(f.masked_pan, "************4771");
    EXPECT_EQ(f.tid, 28004869u);
    EXPECT_EQ(f.vu_number, "100461763      ");
    EXPECT_EQ(f.aid, "611804");
    EXPECT_EQ(f.additional_text, "GEN.NR.:611804");
    EXPECT_EQ(f.currency, 978);
    EXPECT_EQ(f.receipt_no, 470);
    EXPECT_EQ(f.turnover_no, 470u);
    EXPECT_EQ(f.card_type, 46);
    EXPECT_EQ(brand_from_card_type(*f.card_type), CardBrand::maestro);
    EXPECT_EQ(f.card_name, "Debit Mastercard");
    EXPECT_TRUE(f.other.empty());
}

TEST(ZvtFields, StatusInformationVisaWithTlv) {
    const Message m = golden("status_information_visa_tlv");
    const Fields& f = m.fields;
    EXPECT_EQ(f.amount, 1000);
    EXPECT_EQ(f.masked_pan, "474843******7743");
    EXPECT_EQ(f.card_type, 10);
    EXPECT_EQ(brand_from_card_type(10), CardBrand::visa);
    EXPECT_EQ(f.card_type_network, 3);
    EXPECT_EQ(f.card_name, "VISA");
    EXPECT_EQ(f.vu_number, "455600000599   ");
    EXPECT_EQ(f.tid, 42003036u);
    EXPECT_EQ(f.payment_type, 0x60);
    ASSERT_TRUE(f.tlv);
    ASSERT_EQ(f.tlv->size(), 5u);
    const TlvNode& emv = (*f.tlv)[3];
    EXPECT_EQ(emv.tag, 0x60u);
    ASSERT_NE(emv.find(0x43), nullptr);
    EXPECT_EQ(emv.find(0x43)->value, from_hex("A0 00 00 00 03 10 10").value());
    EXPECT_EQ(emv.find(0x42)->text(), "VISA");
    EXPECT_EQ((*f.tlv)[4].children.size(), 3u);
}

TEST(ZvtFields, GirocardEfIdKeepsOnlyMaskedPan) {
    const Message m = golden("status_information_girocard");
    EXPECT_EQ(m.fields.amount, 4000);
    EXPECT_EQ(m.fields.masked_pan, "******6666");  // the card data after D is dropped
    EXPECT_EQ(m.fields.card_type, 2);
    EXPECT_EQ(brand_from_card_type(2), CardBrand::girocard);
}

TEST(ZvtFields, EndOfDayTotalsFeig) {
    const Message m = golden("status_information_eod_feig");
    EXPECT_EQ(m.fields.result_code, 0);
    EXPECT_EQ(m.fields.amount, 958);
    EXPECT_EQ(m.fields.trace, 982u);
    EXPECT_EQ(m.fields.date_mmdd, 406);
    EXPECT_EQ(m.fields.time_hhmmss, 81706u);
    ASSERT_TRUE(m.fields.totals);
    const EodTotals& t = *m.fields.totals;
    EXPECT_EQ(t.receipt_from, 233);
    EXPECT_EQ(t.receipt_to, 234);
    EXPECT_EQ(t.mastercard.count, 2);
    EXPECT_EQ(t.mastercard.amount, 958);
    EXPECT_EQ(t.girocard, EodTotals::Bucket{});
    EXPECT_EQ(t.visa, EodTotals::Bucket{});
    EXPECT_EQ(t.others, EodTotals::Bucket{});
}

// PA00P015 §2.56: the software version (LLLVAR) comes before the status byte, so a status of
// Fx followed by a BMP whose bytes are Fy Fz looks like an LLLVAR prefix. It is read as one only
// when the version it announces fits before a status byte (found by fuzz_apdu: F5 F0 F0 would
// announce 500 bytes).
TEST(ZvtFields, StatusFxAfterStatusEnquiryIsNotTakenForAVersionThatDoesNotFit) {
    auto m = decode_message(decode_apdu(from_hex("06 0F 0C F5 F0 F0 EB 32 F5 04 CF 79 2B 33 00").value()).value(),
                            DecodeContext{Command::status_enquiry});
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_FALSE(m->sw_version);
    EXPECT_EQ(m->status, 0xF5);
    // A version that fits is still a version: F0 F0 F2 = 2 bytes "AB", then status 00.
    auto v = decode_message(decode_apdu(from_hex("06 0F 06 F0 F0 F2 41 42 00").value()).value(),
                            DecodeContext{Command::status_enquiry});
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_EQ(v->sw_version, "AB");
    EXPECT_EQ(v->status, 0x00);
}

TEST(ZvtFields, CompletionAfterStatusEnquiry) {
    const Message m = golden("completion_status_enquiry_cvend", Command::status_enquiry);
    EXPECT_EQ(m.command, Command::completion);
    EXPECT_EQ(m.sw_version, "GER-APP-v2.0.9;cR02.01.01-00.09-2-2;CC26");
    EXPECT_EQ(m.status, 0x00);
    EXPECT_EQ(terminal_status_text(*m.status), "PT ready");
    ASSERT_TRUE(m.fields.tlv);
    const auto& tlv = *m.fields.tlv;
    ASSERT_EQ(tlv.size(), 3u);  // 1F44, E4 { 1F40 1F41 1F42 1F43 }, 34 { 1F0E 1F0F }
    EXPECT_EQ(tlv[0].tag, 0x1F44u);
    const TlvNode& info = tlv[1];
    EXPECT_EQ(info.tag, 0xE4u);
    ASSERT_EQ(info.children.size(), 4u);
    EXPECT_EQ(info.find(0x1F40)->text(), "cVEND box+");
    EXPECT_EQ(info.find(0x1F42)->value, from_hex("11 E9 30 EC").value());  // serial number
    EXPECT_EQ(tlv[2].tag, 0x34u);
    EXPECT_EQ(tlv[2].find(0x1F0E)->value, from_hex("20 23 06 22").value());

    const Message dc = golden("completion_status_enquiry_dc", Command::status_enquiry);
    EXPECT_EQ(dc.status, 0xDC);
    EXPECT_FALSE(dc.sw_version);
    EXPECT_EQ(terminal_status_text(0xDC), "card inserted");

    const Message reg = golden("completion_registration_cvend");
    EXPECT_EQ(reg.fields.payment_type, 0x00);
    EXPECT_EQ(reg.fields.tid, 52001233u);
    EXPECT_EQ(reg.fields.currency, 978);
    EXPECT_EQ(reg.fields.tlv->at(0).find(tag::charset)->value, Bytes{0xFF});
}

TEST(ZvtFields, IntermediateStatus) {
    const Message m = golden("intermediate_tlv_ecrterm");
    EXPECT_EQ(m.command, Command::intermediate_status);
    EXPECT_EQ(m.status, 0x0A);
    EXPECT_EQ(intermediate_status_text(0x0A), "insert card");
    EXPECT_EQ(m.timeout_min, 1);
    ASSERT_TRUE(m.fields.tlv);
    const TlvNode& display = m.fields.tlv->at(0);
    EXPECT_EQ(display.tag, tag::display_texts);
    EXPECT_EQ(display.find(tag::text_line)->text(), "Bitte Karte einstecken");

    const Message feig = golden("intermediate_feig");
    EXPECT_EQ(feig.status, 0x17);
    EXPECT_FALSE(feig.timeout_min);
    const Message ff = golden("intermediate_ff_portalum");
    EXPECT_EQ(ff.status, 0xFF);
    EXPECT_EQ(ff.timeout_min, 10);
    EXPECT_EQ(ff.fields.tlv->at(0).children.at(1).text(), "Bitte warten");
    EXPECT_EQ(intermediate_status_text(0x4A), "insert card, please remove card!");
}

TEST(ZvtFields, PrintLines) {
    const Message k = golden("print_line_kassenschnitt");
    EXPECT_EQ(k.command, Command::print_line);
    EXPECT_EQ(k.print_attribute, 0x00);
    EXPECT_EQ(k.print_text, "         Kassenschnitt");
    const Message cc = golden("print_line_cardcomplete_tlv");
    EXPECT_EQ(cc.print_attribute, 0x40);
    EXPECT_EQ(cc.print_text, "** H\xC4NDLERBELEG **");
    ASSERT_TRUE(cc.fields.tlv);
    EXPECT_EQ(cc.fields.tlv->at(0).tag, tag::receipt_type);
    EXPECT_EQ(cc.fields.tlv->at(0).value, Bytes{0x01});
    const Message last = golden("print_line_last");
    EXPECT_EQ(last.print_attribute, 0x81);
    EXPECT_EQ(last.print_text, "");
}

TEST(ZvtFields, AbortFromPt) {
    const Message m = golden("abort_from_pt_ecrterm");
    EXPECT_EQ(m.command, Command::abort_from_pt);
    EXPECT_EQ(m.status, rc::abort_timeout_or_key);
    EXPECT_EQ(result_code_text(0x6C), "abort via timeout or abort key");
    ASSERT_TRUE(m.fields.tlv);
    EXPECT_EQ(m.fields.tlv->at(0).tag, tag::extended_error_code);
    EXPECT_EQ(m.fields.tlv->at(0).value, from_hex("FF 00 00 14 41").value());
    EXPECT_EQ(m.fields.tlv->at(1).tag, tag::extended_error_text);
    EXPECT_EQ(m.fields.tlv->at(1).text(), "Abbruch durch externes Kommando!");
    const Message none = golden("abort_from_pt_no_preauth");
    EXPECT_EQ(none.status, 0xB8);
    EXPECT_EQ(none.fields.receipt_no, 0xFFFF);
}

TEST(ZvtFields, RegistrationAndAcks) {
    const Message r = golden("registration_cardcomplete");
    EXPECT_EQ(r.password, 123456u);
    EXPECT_EQ(r.config_byte, 0x8E);
    EXPECT_EQ(r.fields.currency, 978);
    const TlvNode& permitted = r.fields.tlv->at(0);
    EXPECT_EQ(permitted.tag, tag::permitted_commands);
    EXPECT_EQ(permitted.find(tag::zvt_command)->value, (Bytes{0x06, 0xD3}));
    const Message seq = golden("registration_msgseq_spec");
    EXPECT_EQ(seq.fields.tlv->at(1).tag, tag::msg_seq_id);
    const Message nack = golden("nack_partial_issue");
    EXPECT_EQ(nack.command, Command::negative_ack);
    EXPECT_EQ(nack.status, 0x9D);
    EXPECT_EQ(nack.fields.amount, 2200);
    const Message unknown = golden("initialisation_unknown");
    EXPECT_EQ(unknown.command, Command::unknown);
    EXPECT_EQ(unknown.control, 0x0693);
    EXPECT_EQ(unknown.raw.size(), 3u);
    const Message read_card = golden("read_card_feig");
    EXPECT_EQ(read_card.command, Command::read_card);
    EXPECT_EQ(read_card.timeout_s, 15);
    EXPECT_EQ(encode_apdu(encode_message(make_ack())), (Bytes{0x80, 0x00, 0x00}));
    EXPECT_EQ(encode_apdu(encode_message(make_nack(0x83))), (Bytes{0x84, 0x83, 0x00}));
}

TEST(ZvtFields, EveryBmpOfTheSummaryTableHasAFormat) {
    for (int b : {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0B, 0x0C, 0x0D, 0x0E, 0x17, 0x19, 0x22,
                  0x23, 0x24, 0x27, 0x29, 0x2A, 0x2D, 0x2E, 0x37, 0x3A, 0x3B, 0x3C, 0x3D, 0x49,
                  0x60, 0x87, 0x88, 0x8A, 0x8B, 0x8C, 0x92, 0x9A, 0xA0, 0xA7, 0xAA, 0xAF, 0xBA,
                  0xD0, 0xD1, 0xD2, 0xD3, 0xE0, 0xE1, 0xE8, 0xE9, 0xEA, 0xEB, 0xF0, 0xF1, 0xF8,
                  0xF9, 0xFA, 0xFB, 0xFC, 0xFD})
        EXPECT_TRUE(bmp_format(static_cast<std::uint8_t>(b))) << b;
    EXPECT_FALSE(bmp_format(0x00));
    EXPECT_FALSE(bmp_format(0xDC));
    EXPECT_EQ(bmp_format(0x04)->kind, BmpFormat::Kind::bcd);
    EXPECT_EQ(bmp_format(0x04)->size, 6);
    EXPECT_EQ(bmp_format(0x3C)->kind, BmpFormat::Kind::lllvar);
    EXPECT_EQ(bmp_format(0x8B)->kind, BmpFormat::Kind::llvar);
}

TEST(ZvtFields, TrackDataAndCvvAreNeverKept) {
    // 23 track 2 (LLVAR) with a full PAN, 3A CVV: only the track length survives.
    const auto m = decode_message(
        decode_apdu(from_hex("06 01 0E 23 F0 F8 45 71 23 45 67 89 01 23 3A 01 23").value()).value());
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(m->fields.track_length, 8u);
    EXPECT_TRUE(m->fields.other.empty());
    const Bytes again = encode_apdu(encode_message(*m));
    EXPECT_EQ(again, (Bytes{0x06, 0x01, 0x00}));
}

TEST(ZvtFields, FullPanFromTerminalIsMasked) {
    const auto pan = pan_from_nibbles(from_hex("45 71 23 45 67 89 01 23").value());
    EXPECT_EQ(pan, "457123******0123");
    EXPECT_EQ(pan_from_nibbles(from_hex("EE EE 12 3F").value()), "****123");
    EXPECT_FALSE(pan_from_nibbles(from_hex("1F 23").value()));  // F only pads at the end
    EXPECT_EQ(pan_to_nibbles("****123"), from_hex("EE EE 12 3F").value());
}

TEST(ZvtTables, TextsAndBrands) {
    EXPECT_EQ(result_code_text(0x00), "no error");
    EXPECT_EQ(result_code_text(0x05), "error from network operator / authorisation system");
    EXPECT_EQ(result_code_text(0xB4), "already reversed");
    EXPECT_EQ(result_code_text(0xF0), "open end-of-day batch present");
    EXPECT_EQ(result_code_text(0x80), "unknown result code");
    EXPECT_EQ(terminal_status_text(0xF0), "reconciliation required");
    EXPECT_EQ(intermediate_status_text(0x05), "PT is sending auto-reversal");
    EXPECT_EQ(intermediate_status_text(0x30), "unknown intermediate status");
    for (auto [id, brand] : std::initializer_list<std::pair<int, CardBrand>>{
             {5, CardBrand::girocard}, {6, CardBrand::mastercard}, {8, CardBrand::amex},
             {10, CardBrand::visa}, {11, CardBrand::visa_electron}, {12, CardBrand::diners},
             {13, CardBrand::vpay}, {14, CardBrand::jcb}, {46, CardBrand::maestro},
             {196, CardBrand::dankort}, {197, CardBrand::visa_dankort}, {198, CardBrand::cup},
             {232, CardBrand::discover}}) {
        EXPECT_EQ(brand_from_card_type(static_cast<std::uint8_t>(id)), brand) << id;
        EXPECT_EQ(card_type_for_brand(brand), id);
    }
    EXPECT_EQ(brand_from_card_type(99), CardBrand::unknown);
    EXPECT_EQ(card_type_for_brand(CardBrand::bankaxept), 0);
}


// ---- Read Card (06 C0, PA00P015 §2.21) -------------------------------------------------

TEST(ZvtReadCard, CommandFromCaptureDecodesAndReencodesByteForByte) {
    // [EVEREST] capture quoted in shared/protocols/zvt.md §1.4: timeout 15 s, card type 10,
    // dialog control 02, a TLV container.
    const Bytes wire = from_hex("06 C0 0F 0F 19 10 FC 02 06 08 1F 15 01 D0 1F 60 01 07").value();
    const auto m = decode_message(decode_apdu(wire).value());
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(m->command, Command::read_card);
    EXPECT_EQ(m->timeout_s, 15);
    EXPECT_EQ(m->fields.payment_type, 0x10);
    ASSERT_TRUE(m->fields.tlv);
    EXPECT_EQ(m->fields.tlv->size(), 2u);
    EXPECT_EQ(encode_apdu(encode_message(*m)), wire);
    EXPECT_EQ(command_name(Command::read_card), "read_card");
}

TEST(ZvtReadCard, MissingTimeoutIsAnError) {
    const auto m = decode_message(decode_apdu(from_hex("06 C0 00").value()).value());
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, Error::field_missing);
}

TEST(ZvtReadCard, Track2IsKeptOnlyInTheAnswerToReadCard) {
    // 04 0F: result 00, 23 = "7700112233=2612" packed (D separator, F pad).
    const Bytes wire = from_hex("04 0F 0D 27 00 23 F0 F8 77 00 11 22 33 D2 61 2F").value();
    const auto plain = decode_message(decode_apdu(wire).value());
    ASSERT_TRUE(plain) << plain.error().to_string();
    EXPECT_FALSE(plain->fields.track2);
    EXPECT_EQ(plain->fields.track_length, 8u);

    const auto kept = decode_message(decode_apdu(wire).value(), DecodeContext{Command::read_card, true});
    ASSERT_TRUE(kept) << kept.error().to_string();
    EXPECT_EQ(kept->fields.track2, "7700112233=2612");
    EXPECT_EQ(encode_apdu(encode_message(*kept)), wire);
}

TEST(ZvtReadCard, BadTrack2NibblesAreRefusedWithTheirPlace) {
    // A nibble B is neither a digit nor the separator.
    const Bytes wire = from_hex("04 0F 06 27 00 23 F0 F1 1B").value();
    const auto m = decode_message(decode_apdu(wire).value(), DecodeContext{Command::read_card, true});
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, Error::bmp_bad_bcd);
    EXPECT_NE(m.error().to_string().find("BMP 23"), std::string::npos);
}

TEST(ZvtReadCard, Track2NibbleCodecRoundTrips) {
    EXPECT_EQ(track2_to_nibbles("12=3"), from_hex("12 D3").value());
    EXPECT_EQ(track2_to_nibbles("12=34"), from_hex("12 D3 4F").value());
    EXPECT_EQ(track2_from_nibbles(from_hex("12 D3 4F").value()), "12=34");
    EXPECT_FALSE(track2_from_nibbles(from_hex("1F 23").value()));  // F only pads at the end
    EXPECT_FALSE(track2_from_nibbles(from_hex("FF").value()));     // nothing but padding
}

}  // namespace
}  // namespace pb::zvt
