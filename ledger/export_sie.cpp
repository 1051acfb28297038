#include "ledger/export_sie.hpp"

#include <array>

#include "ledger/finance_common.hpp"

namespace pb::ledger {
namespace {

// CP437 0x80..0xAF (letters and currency signs) and the few Latin/math signs of 0xE0..0xFF.
constexpr std::array<char32_t, 48> kCp437High{
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF,
    0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA,
    0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB};
struct Extra {
    char32_t cp;
    unsigned char byte;
};
constexpr std::array<Extra, 8> kCp437Extra{
    {{0x00DF, 0xE1}, {0x00B5, 0xE6}, {0x00B1, 0xF1}, {0x00F7, 0xF6}, {0x00B0, 0xF8}, {0x00B7, 0xFA},
     {0x00B2, 0xFD}, {0x00A0, 0xFF}}};

char cp437_of(char32_t cp) {
    if (cp < 0x80) return static_cast<char>(cp);
    for (std::size_t i = 0; i < kCp437High.size(); ++i)
        if (kCp437High[i] == cp) return static_cast<char>(0x80 + i);
    for (const auto& e : kCp437Extra)
        if (e.cp == cp) return static_cast<char>(e.byte);
    return '?';
}

// A record field: text as written (CP437), and how it is written.
struct Field {
    enum Kind { plain, quoted, objects } kind = plain;
    std::string text;
};

struct Record {
    std::string label;
    std::vector<Field> fields;
};

std::string clean(std::string_view utf8) {
    // No control characters in a field; a backslash would read as an escape.
    std::string s = utf8_to_cp437(utf8);
    for (auto& c : s) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        if (c == '\\') c = '/';
    }
    return s;
}

Field q(std::string_view utf8) { return Field{Field::quoted, clean(utf8)}; }
Field p(std::string text) { return Field{Field::plain, std::move(text)}; }

std::string sie_date(const std::string& iso) { return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2); }

class Writer {
public:
    explicit Writer(bool checksum) : checksum_(checksum) {}
    void line(const Record& r) {
        std::string text = r.label;
        for (const auto& f : r.fields) {
            text += ' ';
            switch (f.kind) {
                case Field::plain: text += f.text; break;
                case Field::objects: text += "{" + f.text + "}"; break;
                case Field::quoted:
                    text += '"';
                    for (char c : f.text) {
                        if (c == '"') text += '\\';
                        text += c;
                    }
                    text += '"';
                    break;
            }
        }
        out_ += text + "\r\n";
        if (summing_) {
            // SIE 4B #KSUMMA: label and field contents only.
            std::string bytes = r.label;
            for (const auto& f : r.fields) bytes += f.text;
            crc_ = sie_crc32(bytes, crc_);
        }
    }
    void raw(const std::string& text) { out_ += text + "\r\n"; }
    void start_sum() {
        raw("#KSUMMA");
        summing_ = checksum_;
    }
    std::string finish() {
        if (checksum_) {
            summing_ = false;
            raw("#KSUMMA " + std::to_string(crc_));
        }
        return std::move(out_);
    }

private:
    bool checksum_;
    bool summing_ = false;
    std::uint32_t crc_ = 0;
    std::string out_;
};

}  // namespace

std::string utf8_to_cp437(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        char32_t cp = 0;
        std::size_t n = 1;
        if (c < 0x80) {
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F;
            n = 2;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F;
            n = 3;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07;
            n = 4;
        } else {
            out += '?';
            ++i;
            continue;
        }
        if (i + n > s.size()) {
            out += '?';
            break;
        }
        bool ok = true;
        for (std::size_t k = 1; k < n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) ok = false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        out += ok ? cp437_of(cp) : '?';
        i += ok ? n : 1;
    }
    return out;
}

std::uint32_t sie_crc32(std::string_view bytes, std::uint32_t crc) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    crc = ~crc;
    for (unsigned char b : bytes) crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF];
    return ~crc;
}

std::string export_sie4(const std::vector<Voucher>& vouchers, const std::map<std::string, std::string>& names,
                        const SieOptions& o) {
    std::string newest = "1970-01-01";
    for (const auto& v : vouchers)
        if (v.date > newest) newest = v.date;
    const std::string gen = o.generated_on.empty() ? newest : o.generated_on;
    const std::string year = newest.substr(0, 4);
    const std::string rar_start = o.fiscal_year_start.empty() ? year + "-01-01" : o.fiscal_year_start;
    const std::string rar_end = o.fiscal_year_end.empty() ? year + "-12-31" : o.fiscal_year_end;

    Writer w(o.checksum);
    w.line({"#FLAGGA", {p("0")}});
    if (o.checksum) w.start_sum();
    w.line({"#PROGRAM", {q(o.program), p(clean(o.program_version))}});
    w.line({"#FORMAT", {p("PC8")}});
    w.line({"#GEN", {p(sie_date(gen))}});
    w.line({"#SIETYP", {p("4")}});
    if (!o.org_number.empty()) w.line({"#ORGNR", {p(clean(o.org_number))}});
    w.line({"#FNAMN", {q(o.company_name)}});
    w.line({"#RAR", {p("0"), p(sie_date(rar_start)), p(sie_date(rar_end))}});
    for (const auto& [account, name] : names) w.line({"#KONTO", {p(clean(account)), q(name)}});
    for (const auto& v : vouchers) {
        w.line({"#VER", {p(clean(v.series)), p(std::to_string(v.number)), p(sie_date(v.date)), q(v.text)}});
        w.raw("{");
        for (const auto& r : v.rows)
            w.line({"#TRANS", {p(clean(r.account)), Field{Field::objects, ""}, p(finance::format_minor(r.amount_minor)),
                               q(""), q(r.text)}});
        w.raw("}");
    }
    return w.finish();
}

}  // namespace pb::ledger
