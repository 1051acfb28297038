#pragma once
// E-receipt rendering (issue 7): the receipt's lines as a PDF (libharu), the customer's URL as
// a QR code (libqrencode) in SVG and as UTF-8 text art, and the URL's unguessable id.
//  - The PDF has the paper receipt's layout: the same lines, one per row, in a monospaced font
//    on a page as wide as an 80 mm receipt roll. It is deterministic: no creation date, no
//    random document id, uncompressed text, so equal lines give equal bytes.
//  - The receipt id is 128 bits from the kernel's CSPRNG (getrandom(2)), base64url, 22 chars.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/core/expected.hpp"

namespace pb::daemon {

/// 22 characters of base64url from 16 random bytes. Throws std::runtime_error if the kernel
/// cannot give randomness (never silently weaker).
std::string random_receipt_id();

struct QrCode {
    int version = 0;  // 1..40
    int size = 0;     // modules per side (17 + 4 * version)
    std::vector<bool> modules;  // row-major, true = dark
    bool dark(int x, int y) const { return modules[static_cast<std::size_t>(y * size + x)]; }
};
/// Error correction M, 8-bit mode. An error when the text does not fit a QR code.
Expected<QrCode, std::string> qr_encode(std::string_view text);
/// A standalone SVG (one path, 4-module quiet zone), `module_px` per module.
std::string qr_svg(const QrCode& qr, int module_px = 4);
/// Two modules per character row with half blocks (▀ ▄ █), dark on light, quiet zone included:
/// scannable from a terminal with a dark-on-light theme.
std::string qr_text(const QrCode& qr);

/// Lines (UTF-8) to PDF bytes. Characters outside Windows-1252 become '?'.
Expected<std::string, std::string> render_pdf(const std::vector<std::string>& lines, std::string_view title);

}  // namespace pb::daemon
