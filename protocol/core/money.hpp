#pragma once
// Money is an integer count of minor units plus an ISO 4217 currency. Never a float.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb {

/// An ISO 4217 currency: alphabetic code, numeric code and minor-unit exponent.
struct Currency {
    char alpha[4] = {0, 0, 0, 0};  // "SEK" + NUL
    std::uint16_t numeric = 0;     // 752
    std::uint8_t exponent = 2;     // digits after the decimal point

    std::string_view code() const { return {alpha, 3}; }
    friend bool operator==(const Currency& a, const Currency& b) { return a.numeric == b.numeric; }
};

/// Looks up a currency by its alphabetic code ("SEK"); nullopt if unknown.
std::optional<Currency> currency_from_code(std::string_view alpha);
/// Looks up a currency by its numeric code (752); nullopt if unknown.
std::optional<Currency> currency_from_numeric(std::uint16_t numeric);

struct Money {
    std::int64_t minor = 0;  // minor units (öre, cent)
    Currency currency;

    friend bool operator==(const Money& a, const Money& b) {
        return a.minor == b.minor && a.currency == b.currency;
    }
};

/// "123.45 SEK" (exponent-aware, for humans and receipts; never parsed back).
std::string format_money(const Money& m);

/// Parses a decimal major-unit string ("12.30") into minor units for `currency`, exactly;
/// nullopt when it has more decimals than the currency allows or is not a number.
std::optional<std::int64_t> parse_major_units(std::string_view text, const Currency& currency);

}  // namespace pb
