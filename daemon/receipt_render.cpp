#include "daemon/receipt_render.hpp"

#include <hpdf.h>
#include <qrencode.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace pb::daemon {

std::string random_receipt_id() {
    unsigned char bytes[16];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            out += kAlphabet[(acc >> (bits - 6)) & 63];
            bits -= 6;
        }
    }
    if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
    return out;  // 128 bits -> 22 characters
}

// ---- QR -------------------------------------------------------------------------------------

Expected<QrCode, std::string> qr_encode(std::string_view text) {
    std::string s(text);
    QRcode* raw = QRcode_encodeString8bit(s.c_str(), 0, QR_ECLEVEL_M);
    if (!raw) return unexpected("QR encoding failed: " + std::string(std::strerror(errno)) + " (" +
                                std::to_string(text.size()) + " bytes)");
    std::unique_ptr<QRcode, void (*)(QRcode*)> q(raw, QRcode_free);
    QrCode out;
    out.version = q->version;
    out.size = q->width;
    out.modules.resize(static_cast<std::size_t>(q->width) * static_cast<std::size_t>(q->width));
    for (std::size_t i = 0; i < out.modules.size(); ++i) out.modules[i] = (q->data[i] & 1) != 0;
    return out;
}

std::string qr_svg(const QrCode& qr, int module_px) {
    const int quiet = 4;
    const int n = qr.size + 2 * quiet;
    std::string path;
    for (int y = 0; y < qr.size; ++y)
        for (int x = 0; x < qr.size; ++x)
            if (qr.dark(x, y)) path += "M" + std::to_string(x + quiet) + "," + std::to_string(y + quiet) + "h1v1h-1z";
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(n * module_px) + "\" height=\"" +
           std::to_string(n * module_px) + "\" viewBox=\"0 0 " + std::to_string(n) + " " + std::to_string(n) +
           "\" shape-rendering=\"crispEdges\"><rect width=\"" + std::to_string(n) + "\" height=\"" + std::to_string(n) +
           "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

std::string qr_text(const QrCode& qr) {
    // Light is drawn (a block), dark is blank, so the code reads dark-on-light on a terminal
    // with a light foreground too; each text row holds two module rows.
    const int quiet = 2;
    const int n = qr.size + 2 * quiet;
    auto light = [&](int x, int y) {
        x -= quiet, y -= quiet;
        return x < 0 || y < 0 || x >= qr.size || y >= qr.size || !qr.dark(x, y);
    };
    std::string out;
    for (int y = 0; y < n; y += 2) {
        for (int x = 0; x < n; ++x) {
            bool top = light(x, y), bottom = y + 1 < n ? light(x, y + 1) : true;
            out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
        }
        out += '\n';
    }
    return out;
}

// ---- PDF ------------------------------------------------------------------------------------

namespace {

/// UTF-8 to Windows-1252 (the encoding of the PDF's standard Courier font).
std::string to_cp1252(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::uint32_t cp = 0;
        std::size_t len = 1;
        if (c < 0x80) cp = c;
        else if ((c & 0xE0) == 0xC0) cp = c & 0x1F, len = 2;
        else if ((c & 0xF0) == 0xE0) cp = c & 0x0F, len = 3;
        else if ((c & 0xF8) == 0xF0) cp = c & 0x07, len = 4;
        else cp = '?';
        if (i + len > s.size()) len = 1, cp = '?';
        for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        i += len;
        if (cp < 0x20) out += ' ';
        else if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) out += static_cast<char>(cp);
        else if (cp == 0x20AC) out += '\x80';  // euro
        else if (cp == 0x2013) out += '\x96';  // en dash
        else if (cp == 0x2014) out += '\x97';  // em dash
        else out += '?';
    }
    return out;
}

void on_hpdf_error(HPDF_STATUS error, HPDF_STATUS detail, void* user) {
    auto* status = static_cast<std::string*>(user);
    if (status->empty()) *status = "libharu error 0x" + std::to_string(error) + " (detail " + std::to_string(detail) + ")";
}

}  // namespace

Expected<std::string, std::string> render_pdf(const std::vector<std::string>& lines, std::string_view title) {
    // 80 mm roll: 227 pt wide; 40 columns of 9 pt Courier (5.4 pt each) fit with 5 mm margins.
    constexpr float kWidth = 227, kMargin = 14, kFontSize = 9, kLeading = 11;
    constexpr std::size_t kLinesPerPage = 1200;  // a PDF page may be 14400 pt tall
    std::string error;
    std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, void (*)(HPDF_Doc)> pdf(HPDF_New(on_hpdf_error, &error), HPDF_Free);
    if (!pdf) return unexpected(std::string("libharu: cannot create a document"));
    HPDF_SetCompressionMode(pdf.get(), HPDF_COMP_NONE);
    HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_TITLE, to_cp1252(title).c_str());
    HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_PRODUCER, "Paybridge");
    HPDF_Font font = HPDF_GetFont(pdf.get(), "Courier", "WinAnsiEncoding");
    std::size_t at = 0;
    do {
        const std::size_t n = std::min(kLinesPerPage, lines.size() - at);
        HPDF_Page page = HPDF_AddPage(pdf.get());
        HPDF_Page_SetWidth(page, kWidth);
        HPDF_Page_SetHeight(page, 2 * kMargin + kLeading * static_cast<float>(std::max<std::size_t>(n, 1)));
        HPDF_Page_BeginText(page);
        HPDF_Page_SetFontAndSize(page, font, kFontSize);
        float y = HPDF_Page_GetHeight(page) - kMargin - kFontSize;
        for (std::size_t i = 0; i < n; ++i, y -= kLeading)
            HPDF_Page_TextOut(page, kMargin, y, to_cp1252(lines[at + i]).c_str());
        HPDF_Page_EndText(page);
        at += n;
    } while (at < lines.size());
    if (HPDF_SaveToStream(pdf.get()) != HPDF_OK || !error.empty())
        return unexpected(error.empty() ? std::string("libharu: cannot save the document") : error);
    std::string out(HPDF_GetStreamSize(pdf.get()), '\0');
    HPDF_UINT32 size = static_cast<HPDF_UINT32>(out.size());
    if (HPDF_ReadFromStream(pdf.get(), reinterpret_cast<HPDF_BYTE*>(out.data()), &size) != HPDF_OK &&
        size != out.size())
        return unexpected(std::string("libharu: cannot read the document back"));
    out.resize(size);
    return out;
}

}  // namespace pb::daemon
