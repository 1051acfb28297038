#pragma once
// Card brands (the terminal's view of a card) and masked card numbers.
// A full card number is never stored or logged: MaskedPan can only hold a masked one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pb {

/// Card brands a terminal reports. The ledger maps a brand (or a configured BIN range,
/// e.g. a shop's own card) to a card issuer with an accounting account.
enum class CardBrand : std::uint8_t {
    unknown,
    visa,
    visa_electron,
    vpay,
    mastercard,
    maestro,
    amex,
    diners,
    jcb,
    discover,
    cup,
    girocard,
    dankort,
    visa_dankort,
    bankaxept,
};

/// Stable lower-case id used in JSON, the ledger and config ("visa", "mastercard", ...).
std::string_view brand_id(CardBrand b);
/// Human name ("Visa", "American Express").
std::string_view brand_name(CardBrand b);
/// Inverse of brand_id.
std::optional<CardBrand> brand_from_id(std::string_view id);

/// A masked primary account number: digits only where the scheme allows them to be shown
/// (at most the first 6 and last 4), '*' elsewhere. Construction from a full PAN masks it.
class MaskedPan {
public:
    MaskedPan() = default;

    /// Masks a full or partly masked PAN given as digits, with 'E'/'*'/'X' for masked
    /// digits. Keeps at most the first 6 and the last 4 digits. nullopt if `text` has
    /// other characters or is longer than 19 digits.
    static std::optional<MaskedPan> from_digits(std::string_view text);

    const std::string& str() const { return text_; }
    bool empty() const { return text_.empty(); }
    /// The leading clear digits (the BIN/IIN as far as known).
    std::string leading_digits() const;

    friend bool operator==(const MaskedPan&, const MaskedPan&) = default;

private:
    std::string text_;
};

}  // namespace pb
