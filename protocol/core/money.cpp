#include "protocol/core/money.hpp"

#include <array>
#include <charconv>
#include <cstdlib>

namespace pb {
namespace {

struct Row {
    const char* alpha;
    std::uint16_t numeric;
    std::uint8_t exponent;
};

// ISO 4217 (the currencies a Nordic/European shop meets at a terminal).
constexpr std::array<Row, 20> kCurrencies{{
    {"SEK", 752, 2}, {"NOK", 578, 2}, {"DKK", 208, 2}, {"EUR", 978, 2}, {"ISK", 352, 0},
    {"USD", 840, 2}, {"GBP", 826, 2}, {"CHF", 756, 2}, {"PLN", 985, 2}, {"CZK", 203, 2},
    {"HUF", 348, 2}, {"JPY", 392, 0}, {"CAD", 124, 2}, {"AUD", 36, 2},  {"CNY", 156, 2},
    {"RON", 946, 2}, {"BGN", 975, 2}, {"TRY", 949, 2}, {"KWD", 414, 3}, {"BHD", 48, 3},
}};

Currency make(const Row& r) {
    Currency c;
    for (int i = 0; i < 3; ++i) c.alpha[i] = r.alpha[i];
    c.numeric = r.numeric;
    c.exponent = r.exponent;
    return c;
}

}  // namespace

std::optional<Currency> currency_from_code(std::string_view alpha) {
    for (const auto& r : kCurrencies)
        if (alpha == r.alpha) return make(r);
    return std::nullopt;
}

std::optional<Currency> currency_from_numeric(std::uint16_t numeric) {
    for (const auto& r : kCurrencies)
        if (numeric == r.numeric) return make(r);
    return std::nullopt;
}

std::string format_money(const Money& m) {
    std::int64_t v = m.minor;
    std::string sign;
    if (v < 0) {
        sign = "-";
        v = -v;
    }
    std::int64_t scale = 1;
    for (int i = 0; i < m.currency.exponent; ++i) scale *= 10;
    std::string out = sign + std::to_string(v / scale);
    if (m.currency.exponent > 0) {
        std::string frac = std::to_string(v % scale);
        out += '.';
        out += std::string(m.currency.exponent - frac.size(), '0') + frac;
    }
    out += ' ';
    out += m.currency.code();
    return out;
}

std::optional<std::int64_t> parse_major_units(std::string_view text, const Currency& currency) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    bool negative = false;
    if (text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() || frac.size() > currency.exponent) return std::nullopt;
    if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
    for (char ch : whole)
        if (ch < '0' || ch > '9') return std::nullopt;
    for (char ch : frac)
        if (ch < '0' || ch > '9') return std::nullopt;
    std::int64_t w = 0;
    if (std::from_chars(whole.data(), whole.data() + whole.size(), w).ec != std::errc{}) return std::nullopt;
    std::int64_t f = 0;
    if (!frac.empty() && std::from_chars(frac.data(), frac.data() + frac.size(), f).ec != std::errc{})
        return std::nullopt;
    for (std::size_t i = frac.size(); i < currency.exponent; ++i) f *= 10;
    std::int64_t scale = 1;
    for (int i = 0; i < currency.exponent; ++i) scale *= 10;
    if (w > (INT64_MAX - f) / scale) return std::nullopt;
    std::int64_t v = w * scale + f;
    return negative ? -v : v;
}

}  // namespace pb
