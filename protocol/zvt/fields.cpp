#include "protocol/zvt/fields.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <map>
#include <string>

#include "protocol/core/card.hpp"
#include "protocol/zvt/tlv.hpp"

namespace pb::zvt {
namespace {

using K = BmpFormat::Kind;

// PA00P015 ch. 13 "Summary of utilised BMPs". 3A (CVV) is parsed only to be discarded.
std::optional<BmpFormat> lookup(std::uint8_t bmp) {
    switch (bmp) {
        case 0x01: return BmpFormat{K::binary, 1, "timeout_s"};
        case 0x02: return BmpFormat{K::binary, 1, "max_status_infos"};
        case 0x03: return BmpFormat{K::binary, 1, "service_byte"};
        case 0x04: return BmpFormat{K::bcd, 6, "amount"};
        case 0x05: return BmpFormat{K::binary, 1, "pump"};
        case 0x06: return BmpFormat{K::tlv, 0, "tlv"};
        case 0x0B: return BmpFormat{K::bcd, 3, "trace"};
        case 0x0C: return BmpFormat{K::bcd, 3, "time_hhmmss"};
        case 0x0D: return BmpFormat{K::bcd, 2, "date_mmdd"};
        case 0x0E: return BmpFormat{K::bcd, 2, "expiry_yymm"};
        case 0x17: return BmpFormat{K::bcd, 2, "card_sequence"};
        case 0x19: return BmpFormat{K::binary, 1, "payment_type"};
        case 0x22: return BmpFormat{K::llvar, 0, "masked_pan"};
        case 0x23: return BmpFormat{K::llvar, 0, "track2"};
        case 0x24: return BmpFormat{K::lllvar, 0, "track3"};
        case 0x27: return BmpFormat{K::binary, 1, "result_code"};
        case 0x29: return BmpFormat{K::bcd, 4, "tid"};
        case 0x2A: return BmpFormat{K::binary, 15, "vu_number"};
        case 0x2D: return BmpFormat{K::llvar, 0, "track1"};
        case 0x2E: return BmpFormat{K::lllvar, 0, "sync_chip_data"};
        case 0x37: return BmpFormat{K::bcd, 3, "original_trace"};
        case 0x3A: return BmpFormat{K::bcd, 2, "cvv"};
        case 0x3B: return BmpFormat{K::binary, 8, "aid"};
        case 0x3C: return BmpFormat{K::lllvar, 0, "additional_text"};
        case 0x3D: return BmpFormat{K::bcd, 3, "password"};
        case 0x49: return BmpFormat{K::bcd, 2, "currency"};
        case 0x60: return BmpFormat{K::lllvar, 0, "totals"};
        case 0x87: return BmpFormat{K::bcd, 2, "receipt_no"};
        case 0x88: return BmpFormat{K::bcd, 3, "turnover_no"};
        case 0x8A: return BmpFormat{K::binary, 1, "card_type"};
        case 0x8B: return BmpFormat{K::llvar, 0, "card_name"};
        case 0x8C: return BmpFormat{K::binary, 1, "card_type_network"};
        case 0x92: return BmpFormat{K::lllvar, 0, "ec_cash_offline_data"};
        case 0x9A: return BmpFormat{K::lllvar, 0, "geldkarte_record"};
        case 0xA0: return BmpFormat{K::binary, 1, "result_code_as"};
        case 0xA7: return BmpFormat{K::llvar, 0, "chip_data_ef_id"};
        case 0xAA: return BmpFormat{K::bcd, 3, "date_yymmdd"};
        case 0xAF: return BmpFormat{K::lllvar, 0, "ef_info"};
        case 0xBA: return BmpFormat{K::binary, 5, "aid_parameter"};
        case 0xD0: return BmpFormat{K::binary, 1, "algorithm_key"};
        case 0xD1: return BmpFormat{K::llvar, 0, "card_offset_pin_data"};
        case 0xD2: return BmpFormat{K::binary, 1, "card_output"};
        case 0xD3: return BmpFormat{K::binary, 1, "key_position"};
        case 0xE0: return BmpFormat{K::binary, 1, "input_min_length"};
        case 0xE1: return BmpFormat{K::llvar, 0, "text2_line1"};
        case 0xE2: return BmpFormat{K::llvar, 0, "text2_line2"};
        case 0xE3: return BmpFormat{K::llvar, 0, "text2_line3"};
        case 0xE4: return BmpFormat{K::llvar, 0, "text2_line4"};
        case 0xE5: return BmpFormat{K::llvar, 0, "text2_line5"};
        case 0xE6: return BmpFormat{K::llvar, 0, "text2_line6"};
        case 0xE7: return BmpFormat{K::llvar, 0, "text2_line7"};
        case 0xE8: return BmpFormat{K::llvar, 0, "text2_line8"};
        case 0xE9: return BmpFormat{K::binary, 1, "input_max_length"};
        case 0xEA: return BmpFormat{K::binary, 1, "input_echo"};
        case 0xEB: return BmpFormat{K::binary, 8, "mac"};
        case 0xF0: return BmpFormat{K::binary, 1, "display_duration"};
        case 0xF1: return BmpFormat{K::llvar, 0, "text1_line1"};
        case 0xF2: return BmpFormat{K::llvar, 0, "text1_line2"};
        case 0xF3: return BmpFormat{K::llvar, 0, "text1_line3"};
        case 0xF4: return BmpFormat{K::llvar, 0, "text1_line4"};
        case 0xF5: return BmpFormat{K::llvar, 0, "text1_line5"};
        case 0xF6: return BmpFormat{K::llvar, 0, "text1_line6"};
        case 0xF7: return BmpFormat{K::llvar, 0, "text1_line7"};
        case 0xF8: return BmpFormat{K::llvar, 0, "text1_line8"};
        case 0xF9: return BmpFormat{K::binary, 1, "beeps"};
        case 0xFA: return BmpFormat{K::binary, 1, "status"};
        case 0xFB: return BmpFormat{K::binary, 1, "ok_required"};
        case 0xFC: return BmpFormat{K::binary, 1, "dialog_control"};
        case 0xFD: return BmpFormat{K::binary, 1, "card_reader_activation"};
        default: return std::nullopt;
    }
}

DecodeError err(Error e, std::size_t at, std::string detail) {
    return DecodeError{e, at, std::move(detail)};
}

std::string bmp_hex(std::uint8_t bmp) { return "BMP " + to_hex(ByteView{&bmp, 1}); }

std::string strip_nuls(ByteView v) {
    std::string s(v.begin(), v.end());
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
}

std::uint64_t bcd_value(ByteView v) {
    ByteReader r(v);
    return r.bcd(v.size()).value_or(0);  // validated by the caller
}

bool bcd_valid(ByteView v) {
    ByteReader r(v);
    return r.bcd(v.size()).has_value();
}

// BMP 60 after End-of-Day (PA00P015 §3.1.3): receipt range then seven buckets.
constexpr std::size_t kTotalsSize = 2 + 2 + 7 * 7;

std::optional<EodTotals> decode_totals(ByteView v) {
    if (v.size() != kTotalsSize) return std::nullopt;
    ByteReader r(v);
    EodTotals t;
    const auto from = r.bcd(2), to = r.bcd(2);
    if (!from || !to) return std::nullopt;
    t.receipt_from = static_cast<std::uint16_t>(*from);
    t.receipt_to = static_cast<std::uint16_t>(*to);
    for (EodTotals::Bucket* b : {&t.girocard, &t.jcb, &t.mastercard, &t.amex, &t.visa, &t.diners,
                                 &t.others}) {
        const auto count = r.u8();
        const auto amount = r.bcd(6);
        if (!count || !amount) return std::nullopt;
        b->count = *count;
        b->amount = static_cast<std::int64_t>(*amount);
    }
    return t;
}

Bytes encode_totals(const EodTotals& t) {
    Bytes v;
    put_bcd(v, t.receipt_from, 2);
    put_bcd(v, t.receipt_to, 2);
    for (const EodTotals::Bucket* b : {&t.girocard, &t.jcb, &t.mastercard, &t.amex, &t.visa,
                                       &t.diners, &t.others}) {
        v.push_back(b->count);
        put_bcd(v, static_cast<std::uint64_t>(b->amount), 6);
    }
    return v;
}

// Stores one decoded BMP value in `f`. `at` is the offset of the value.
std::optional<DecodeError> store(Fields& f, std::uint8_t bmp, const BmpFormat& fmt, ByteView v,
                                 std::size_t at, FieldOptions opt) {
    if (fmt.kind == K::bcd && !(bmp == 0x87 && v[0] == 0xFF && v[1] == 0xFF) && !bcd_valid(v))
        return err(Error::bmp_bad_bcd, at, bmp_hex(bmp) + " = " + to_hex(v));
    const auto u = [&] { return bcd_value(v); };
    switch (bmp) {
        case 0x01: f.timeout_s = v[0]; break;
        case 0x02: f.max_status_infos = v[0]; break;
        case 0x03: f.service_byte = v[0]; break;
        case 0x04: f.amount = static_cast<std::int64_t>(u()); break;
        case 0x05: f.pump = v[0]; break;
        case 0x06: {
            auto t = decode_tlv(v);
            if (!t) {
                DecodeError e = std::move(t.error());
                e.offset += at;
                return e;
            }
            f.tlv = std::move(*t);
            break;
        }
        case 0x0B: f.trace = static_cast<std::uint32_t>(u()); break;
        case 0x0C: f.time_hhmmss = static_cast<std::uint32_t>(u()); break;
        case 0x0D: f.date_mmdd = static_cast<std::uint16_t>(u()); break;
        case 0x0E: f.expiry_yymm = static_cast<std::uint16_t>(u()); break;
        case 0x17: f.card_sequence = static_cast<std::uint16_t>(u()); break;
        case 0x19: f.payment_type = v[0]; break;
        case 0x22: {
            auto pan = pan_from_nibbles(v);
            if (!pan) return err(Error::bmp_bad_bcd, at, "BMP 22 PAN = " + to_hex(v));
            f.masked_pan = std::move(*pan);
            break;
        }
        case 0x23:
            f.track_length = v.size();
            if (opt.keep_track2) {
                auto t = track2_from_nibbles(v);
                if (!t) return err(Error::bmp_bad_bcd, at, "BMP 23 track 2 is not digits with a D separator");
                f.track2 = std::move(*t);
            }
            break;
        case 0x24:
        case 0x2D: f.track_length = v.size(); break;  // never keep track data (PAN inside)
        case 0x27: f.result_code = v[0]; break;
        case 0x29: f.tid = static_cast<std::uint32_t>(u()); break;
        case 0x2A: f.vu_number = strip_nuls(v); break;
        case 0x37: f.original_trace = static_cast<std::uint32_t>(u()); break;
        case 0x3A: break;  // CVV: card security data is never kept
        case 0x3B: f.aid = strip_nuls(v); break;
        case 0x3C: f.additional_text = std::string(v.begin(), v.end()); break;
        case 0x3D: f.password = static_cast<std::uint32_t>(u()); break;
        case 0x49: f.currency = static_cast<std::uint16_t>(u()); break;
        case 0x60:
            if (auto t = decode_totals(v))
                f.totals = *t;
            else  // other totals layouts (e.g. vendor extensions) stay raw for tracing
                f.other.emplace_back(bmp, Bytes(v.begin(), v.end()));
            break;
        case 0x87:
            f.receipt_no = (v[0] == 0xFF && v[1] == 0xFF) ? std::uint16_t{0xFFFF}
                                                          : static_cast<std::uint16_t>(u());
            break;
        case 0x88: f.turnover_no = static_cast<std::uint32_t>(u()); break;
        case 0x8A: f.card_type = v[0]; break;
        case 0x8B: f.card_name = strip_nuls(v); break;
        case 0x8C: f.card_type_network = v[0]; break;
        case 0xA0: f.result_code_as = v[0]; break;
        case 0xAA: f.date_yymmdd = static_cast<std::uint32_t>(u()); break;
        case 0xBA: f.aid_parameter = Bytes(v.begin(), v.end()); break;
        case 0xD2: f.card_output = v[0]; break;
        default: f.other.emplace_back(bmp, Bytes(v.begin(), v.end())); break;
    }
    return std::nullopt;
}

void put_fixed_text(Bytes& out, const std::string& s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(i < s.size() ? static_cast<std::uint8_t>(s[i]) : std::uint8_t{0});
}

void put_var(Bytes& out, std::uint8_t bmp, ByteView v) {
    const auto fmt = lookup(bmp);
    if (fmt && fmt->kind == K::llvar) {
        put_llvar(out, 2, v.size());
    } else if (fmt && fmt->kind == K::lllvar) {
        put_llvar(out, 3, v.size());
    } else if (fmt && fmt->kind == K::tlv) {
        // §9: the container length is BER, not LLLVAR.
        const std::size_t n = v.size();
        if (n < 0x80) {
            out.push_back(static_cast<std::uint8_t>(n));
        } else if (n <= 0xFF) {
            out.push_back(0x81);
            out.push_back(static_cast<std::uint8_t>(n));
        } else {
            out.push_back(0x82);
            out.push_back(static_cast<std::uint8_t>(n >> 8));
            out.push_back(static_cast<std::uint8_t>(n & 0xFF));
        }
    }
    out.insert(out.end(), v.begin(), v.end());
}

// Encoded value (with its BMP number) of every present field.
std::map<std::uint8_t, Bytes> encode_each(const Fields& f) {
    std::map<std::uint8_t, Bytes> m;
    const auto bin = [&](std::uint8_t bmp, const std::optional<std::uint8_t>& v) {
        if (v) m[bmp] = Bytes{bmp, *v};
    };
    const auto bcd = [&](std::uint8_t bmp, auto v, std::size_t n) {
        if (!v) return;
        Bytes b{bmp};
        put_bcd(b, static_cast<std::uint64_t>(*v), n);
        m[bmp] = std::move(b);
    };
    const auto var = [&](std::uint8_t bmp, ByteView v) {
        Bytes b{bmp};
        put_var(b, bmp, v);
        m[bmp] = std::move(b);
    };
    bin(0x01, f.timeout_s);
    bin(0x02, f.max_status_infos);
    bin(0x03, f.service_byte);
    bcd(0x04, f.amount, 6);
    bin(0x05, f.pump);
    if (f.tlv) var(0x06, encode_tlv(*f.tlv));
    bcd(0x0B, f.trace, 3);
    bcd(0x0C, f.time_hhmmss, 3);
    bcd(0x0D, f.date_mmdd, 2);
    bcd(0x0E, f.expiry_yymm, 2);
    bcd(0x17, f.card_sequence, 2);
    bin(0x19, f.payment_type);
    if (f.masked_pan) var(0x22, pan_to_nibbles(*f.masked_pan));
    if (f.track2) var(0x23, track2_to_nibbles(*f.track2));
    bin(0x27, f.result_code);
    bcd(0x29, f.tid, 4);
    if (f.vu_number) {
        Bytes b{0x2A};
        put_fixed_text(b, *f.vu_number, 15);
        m[0x2A] = std::move(b);
    }
    bcd(0x37, f.original_trace, 3);
    if (f.aid) {
        Bytes b{0x3B};
        put_fixed_text(b, *f.aid, 8);
        m[0x3B] = std::move(b);
    }
    if (f.additional_text)
        var(0x3C, ByteView{reinterpret_cast<const std::uint8_t*>(f.additional_text->data()),
                           f.additional_text->size()});
    bcd(0x3D, f.password, 3);
    bcd(0x49, f.currency, 2);
    if (f.totals) var(0x60, encode_totals(*f.totals));
    if (f.receipt_no) {
        if (*f.receipt_no == 0xFFFF)
            m[0x87] = Bytes{0x87, 0xFF, 0xFF};
        else
            bcd(0x87, f.receipt_no, 2);
    }
    bcd(0x88, f.turnover_no, 3);
    bin(0x8A, f.card_type);
    if (f.card_name) {
        Bytes name(f.card_name->begin(), f.card_name->end());
        name.push_back(0);  // §3.1.1: the card name is null-terminated
        var(0x8B, name);
    }
    bin(0x8C, f.card_type_network);
    bin(0xA0, f.result_code_as);
    bcd(0xAA, f.date_yymmdd, 3);
    if (f.aid_parameter) {
        Bytes b{0xBA};
        Bytes v = *f.aid_parameter;
        v.resize(5, 0);
        b.insert(b.end(), v.begin(), v.end());
        m[0xBA] = std::move(b);
    }
    bin(0xD2, f.card_output);
    for (const auto& [bmp, value] : f.other) {
        if (m.count(bmp)) continue;
        const auto fmt = lookup(bmp);
        if (!fmt) continue;  // cannot be sent: not in the table
        Bytes b{bmp};
        if (fmt->kind == K::binary || fmt->kind == K::bcd) {
            Bytes v = value;
            v.resize(fmt->size, 0);
            b.insert(b.end(), v.begin(), v.end());
        } else {
            put_var(b, bmp, value);
        }
        m[bmp] = std::move(b);
    }
    return m;
}

int canonical_rank(std::uint8_t bmp) {
    if (bmp == 0x27) return -1;
    if (bmp == 0x06) return 256;
    return bmp;
}

}  // namespace

std::optional<BmpFormat> bmp_format(std::uint8_t bmp) { return lookup(bmp); }

void put_llvar(Bytes& out, std::size_t digits, std::size_t length) {
    std::array<std::uint8_t, 3> d{};
    for (std::size_t i = digits; i-- > 0;) {
        d[i] = static_cast<std::uint8_t>(0xF0 | (length % 10));
        length /= 10;
    }
    out.insert(out.end(), d.begin(), d.begin() + static_cast<std::ptrdiff_t>(digits));
}

std::optional<std::string> pan_from_nibbles(ByteView bcd) {
    std::string digits;
    bool padding = false, separator = false;
    for (std::uint8_t b : bcd) {
        for (std::uint8_t nib : {static_cast<std::uint8_t>(b >> 4), static_cast<std::uint8_t>(b & 0x0F)}) {
            if (nib == 0x0F) {
                padding = true;
            } else if (padding) {
                return std::nullopt;  // F only pads at the end
            } else if (separator) {
                continue;  // card data after the PAN is never kept
            } else if (nib <= 9) {
                digits += static_cast<char>('0' + nib);
            } else if (nib == 0x0E) {
                digits += '*';
            } else if (nib == 0x0D) {
                // An EF_ID of a girocard (§13: "PAN / EF_ID") carries card data after a
                // D separator, like track 2.
                separator = true;
            } else {
                return std::nullopt;
            }
        }
    }
    if (digits.size() > 19) {
        // Longer than any PAN: show nothing but the last four.
        for (std::size_t i = 0; i + 4 < digits.size(); ++i) digits[i] = '*';
        return digits;
    }
    const auto masked = MaskedPan::from_digits(digits);
    if (!masked) return std::nullopt;
    return masked->str();
}

namespace {
// Packs one nibble per character, high nibble first; F pads an odd count.
template <class Nibble>
Bytes pack_nibbles(std::string_view chars, Nibble nibble) {
    Bytes out;
    std::uint8_t cur = 0;
    bool high = true;
    for (char ch : chars) {
        const std::uint8_t nib = nibble(ch);
        if (high) {
            cur = static_cast<std::uint8_t>(nib << 4);
        } else {
            out.push_back(static_cast<std::uint8_t>(cur | nib));
        }
        high = !high;
    }
    if (!high) out.push_back(static_cast<std::uint8_t>(cur | 0x0F));
    return out;
}
}  // namespace

Bytes pan_to_nibbles(std::string_view pan) {
    return pack_nibbles(pan, [](char ch) {
        return (ch >= '0' && ch <= '9') ? static_cast<std::uint8_t>(ch - '0') : std::uint8_t{0x0E};
    });
}

std::optional<std::string> track2_from_nibbles(ByteView bytes) {
    // Track 2 in BMP 23: packed digits, D as the field separator (ISO/IEC 7813 '='), F pads
    // an odd count at the end (PA00P015 ch. 13).
    std::string out;
    bool padding = false;
    for (std::uint8_t b : bytes) {
        for (std::uint8_t nib : {static_cast<std::uint8_t>(b >> 4), static_cast<std::uint8_t>(b & 0x0F)}) {
            if (nib == 0x0F) {
                padding = true;
            } else if (padding) {
                return std::nullopt;
            } else if (nib <= 9) {
                out += static_cast<char>('0' + nib);
            } else if (nib == 0x0D) {
                out += '=';
            } else {
                return std::nullopt;
            }
        }
    }
    if (out.empty()) return std::nullopt;
    return out;
}

Bytes track2_to_nibbles(std::string_view track2) {
    return pack_nibbles(track2, [](char c) { return c == '=' ? std::uint8_t{0x0D} : static_cast<std::uint8_t>(c - '0'); });
}

Expected<Fields, DecodeError> decode_fields(ByteView bytes, std::size_t base, FieldOptions opt) {
    Fields f;
    std::bitset<256> seen;
    ByteReader r(bytes);
    while (!r.empty()) {
        const std::size_t at = base + r.position();
        const std::uint8_t bmp = *r.u8();
        const auto fmt = lookup(bmp);
        if (!fmt) return unexpected(err(Error::bmp_unknown, at, bmp_hex(bmp)));
        if (seen[bmp]) return unexpected(err(Error::bmp_duplicate, at, bmp_hex(bmp)));
        seen[bmp] = true;
        std::size_t len = fmt->size;
        if (fmt->kind == K::llvar || fmt->kind == K::lllvar) {
            const std::size_t digits = fmt->kind == K::llvar ? 2 : 3;
            const auto prefix = r.bytes(digits);
            if (!prefix)
                return unexpected(err(Error::bmp_truncated, at,
                                      bmp_hex(bmp) + " length prefix cut short"));
            len = 0;
            for (std::uint8_t p : *prefix) {
                if ((p & 0xF0) != 0xF0 || (p & 0x0F) > 9)
                    return unexpected(err(Error::bmp_bad_llvar, at + 1,
                                          bmp_hex(bmp) + " prefix " + to_hex(*prefix)));
                len = len * 10 + (p & 0x0F);
            }
        } else if (fmt->kind == K::tlv) {
            // BER length of the container (§9.3).
            const auto l0 = r.u8();
            if (!l0) return unexpected(err(Error::bmp_truncated, at, "BMP 06 length missing"));
            len = *l0;
            if (*l0 == 0x81) {
                const auto l1 = r.u8();
                if (!l1) return unexpected(err(Error::bmp_truncated, at, "BMP 06 length cut short"));
                len = *l1;
            } else if (*l0 == 0x82) {
                const auto l2 = r.u16be();
                if (!l2) return unexpected(err(Error::bmp_truncated, at, "BMP 06 length cut short"));
                len = *l2;
            } else if (*l0 > 0x7F) {
                return unexpected(err(Error::tlv_bad_length, at + 1,
                                      "BMP 06 length byte " + to_hex(ByteView{&*l0, 1})));
            }
        }
        const std::size_t value_at = base + r.position();
        const std::size_t left = r.remaining();
        const auto v = r.bytes(len);
        if (!v)
            return unexpected(err(Error::bmp_truncated, value_at,
                                  bmp_hex(bmp) + " needs " + std::to_string(len) + " bytes, " +
                                      std::to_string(left) + " left"));
        if (auto e = store(f, bmp, *fmt, *v, value_at, opt)) return unexpected(std::move(*e));
        f.order.bmps.push_back(bmp);
    }
    return f;
}

void encode_fields(const Fields& f, Bytes& out) {
    auto m = encode_each(f);
    for (std::uint8_t bmp : f.order.bmps) {
        auto it = m.find(bmp);
        if (it == m.end()) continue;
        out.insert(out.end(), it->second.begin(), it->second.end());
        m.erase(it);
    }
    std::vector<std::uint8_t> rest;
    for (const auto& kv : m) rest.push_back(kv.first);
    std::sort(rest.begin(), rest.end(),
              [](std::uint8_t a, std::uint8_t b) { return canonical_rank(a) < canonical_rank(b); });
    for (std::uint8_t bmp : rest) out.insert(out.end(), m[bmp].begin(), m[bmp].end());
}

}  // namespace pb::zvt
