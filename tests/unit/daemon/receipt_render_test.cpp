// E-receipt rendering (daemon/receipt_render.hpp, daemon/receipt_flow.hpp): the PDF is a PDF
// with the receipt's lines as text and the same bytes for the same lines; the QR code has the
// size its version demands and the three finder patterns; the receipt id is 128 random bits.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "daemon/receipt_flow.hpp"
#include "daemon/receipt_render.hpp"
#include "protocol/upstream/ereceipt.hpp"

namespace pb::daemon {
namespace {

const std::vector<std::string> kLines{"Verkstan AB", "Receipt                             O-4711",
                                      "Card Visa                       123.45 SEK", "TOTAL 123.45 SEK"};

TEST(ReceiptPdf, IsAPdfWithTheLinesAsText) {
    auto pdf = render_pdf(kLines, "Receipt O-4711");
    ASSERT_TRUE(pdf) << pdf.error();
    EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
    EXPECT_NE(pdf->find("%%EOF"), std::string::npos);
    for (const auto& l : kLines) EXPECT_NE(pdf->find("(" + l + ")"), std::string::npos) << l;
    EXPECT_NE(pdf->find("/Courier"), std::string::npos);
    // The cross-reference table is where startxref says it is (the file parses from its end).
    auto at = pdf->rfind("startxref");
    ASSERT_NE(at, std::string::npos);
    std::size_t offset = std::stoul(pdf->substr(at + 10));
    EXPECT_EQ(pdf->compare(offset, 4, "xref"), 0);
}

TEST(ReceiptPdf, SameLinesSameBytesAndNoCreationDate) {
    auto a = render_pdf(kLines, "Receipt O-4711");
    auto b = render_pdf(kLines, "Receipt O-4711");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(a->find("/CreationDate"), std::string::npos);
    auto c = render_pdf({"Receipt O-4712"}, "Receipt O-4712");
    ASSERT_TRUE(c);
    EXPECT_NE(*a, *c);
}

TEST(ReceiptPdf, SwedishLettersAreWindows1252AndManyLinesMakeMorePages) {
    auto pdf = render_pdf({"Kvitto för kör", "\xE2\x82\xAC 5"}, "t");  // ö, €
    ASSERT_TRUE(pdf);
    EXPECT_NE(pdf->find("(Kvitto f\\366r k\\366r)"), std::string::npos);  // ö = 0xF6, escaped in octal
    std::vector<std::string> many(2500, "line");
    auto big = render_pdf(many, "many");
    ASSERT_TRUE(big);
    std::regex pages(R"(/Type /Pages[\s\S]*?/Count (\d+))");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*big, m, pages));
    EXPECT_EQ(m[1].str(), "3");
}

TEST(ReceiptQr, SizeFollowsTheVersionAndTheFindersAreThere) {
    const std::string url = "https://kvitto.example.se/r/" + random_receipt_id();
    auto qr = qr_encode(url);
    ASSERT_TRUE(qr) << qr.error();
    EXPECT_GE(qr->version, 3);  // 50 bytes in 8-bit mode at level M need version 4 (62 bytes)
    EXPECT_EQ(qr->size, 17 + 4 * qr->version);
    auto finder = [&](int x0, int y0) {
        for (int y = 0; y < 7; ++y)
            for (int x = 0; x < 7; ++x) {
                bool ring = x == 0 || y == 0 || x == 6 || y == 6;
                bool core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
                if (qr->dark(x0 + x, y0 + y) != (ring || core)) return false;
            }
        return true;
    };
    EXPECT_TRUE(finder(0, 0));
    EXPECT_TRUE(finder(qr->size - 7, 0));
    EXPECT_TRUE(finder(0, qr->size - 7));
    EXPECT_FALSE(finder(qr->size - 7, qr->size - 7));
    // A longer text needs a larger version.
    auto bigger = qr_encode(url + std::string(200, 'x'));
    ASSERT_TRUE(bigger);
    EXPECT_GT(bigger->version, qr->version);
}

TEST(ReceiptQr, SvgAndTextArtDrawEveryModule) {
    auto qr = qr_encode("https://k.example.se/r/AAAAAAAAAAAAAAAAAAAAAA");
    ASSERT_TRUE(qr);
    std::size_t dark = 0;
    for (bool m : qr->modules) dark += m;
    std::string svg = qr_svg(*qr);
    std::size_t squares = 0;
    for (auto at = svg.find("h1v1h-1z"); at != std::string::npos; at = svg.find("h1v1h-1z", at + 1)) ++squares;
    EXPECT_EQ(squares, dark);
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    std::string text = qr_text(*qr);
    const int n = qr->size + 4;
    std::size_t rows = 0, start = 0;
    for (auto nl = text.find('\n'); nl != std::string::npos; start = nl + 1, nl = text.find('\n', start)) {
        std::string row = text.substr(start, nl - start);
        std::size_t chars = 0;
        for (unsigned char c : row) chars += (c & 0xC0) != 0x80;  // UTF-8 code points
        EXPECT_EQ(chars, static_cast<std::size_t>(n));
        ++rows;
    }
    EXPECT_EQ(rows, static_cast<std::size_t>((n + 1) / 2));
}

TEST(ReceiptId, Is128RandomBitsInBase64Url) {
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        std::string id = random_receipt_id();
        EXPECT_EQ(id.size(), 22u);
        EXPECT_TRUE(upstream::valid_receipt_id(id)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 2000u);
}

TEST(ReceiptLines, PaymentSlipAndCopyHeader) {
    ReceiptTender t;
    t.payment.id = ledger::PaymentId{7};
    t.payment.request.order_id = "O-1";
    t.payment.request.amount = Money{12345, *currency_from_code("SEK")};
    t.payment.terminal.brand = CardBrand::visa;
    t.payment.terminal.approval_code = "654321";
    t.payment.state = ledger::PaymentState::approved;
    t.slip = {"KUNDENBELEG", "VISA  123.45"};
    auto lines = receipt_lines("Verkstan AB", "O-1", "K1", {t});
    ASSERT_GE(lines.size(), 6u);
    EXPECT_EQ(lines[0], "Verkstan AB");
    EXPECT_NE(lines[1].find("O-1"), std::string::npos);
    bool total = false;
    for (const auto& l : lines) {
        EXPECT_LE(l.size(), 40u) << l;
        total = total || (l.rfind("TOTAL", 0) == 0 && l.find("123.45 SEK") != std::string::npos);
    }
    EXPECT_TRUE(total);
    EXPECT_EQ(lines.back(), "VISA  123.45");
    auto copy = copy_lines(lines, "sms");
    EXPECT_EQ(copy.front(), "COPY \u2014 original delivered by SMS");
    EXPECT_EQ(copy.size(), lines.size() + 1);
    EXPECT_EQ(copy_lines(lines, "waste_basket").front(),
              "COPY \u2014 original delivered by the waste-basket (discarded original)");
}

}  // namespace
}  // namespace pb::daemon
