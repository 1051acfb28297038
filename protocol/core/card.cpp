#include "protocol/core/card.hpp"

#include <array>
#include <utility>

namespace pb {
namespace {

struct BrandRow {
    CardBrand brand;
    std::string_view id;
    std::string_view name;
};

constexpr std::array<BrandRow, 15> kBrands{{
    {CardBrand::unknown, "unknown", "Unknown card"},
    {CardBrand::visa, "visa", "Visa"},
    {CardBrand::visa_electron, "visa_electron", "Visa Electron"},
    {CardBrand::vpay, "vpay", "V PAY"},
    {CardBrand::mastercard, "mastercard", "Mastercard"},
    {CardBrand::maestro, "maestro", "Maestro"},
    {CardBrand::amex, "amex", "American Express"},
    {CardBrand::diners, "diners", "Diners Club"},
    {CardBrand::jcb, "jcb", "JCB"},
    {CardBrand::discover, "discover", "Discover"},
    {CardBrand::cup, "cup", "UnionPay"},
    {CardBrand::girocard, "girocard", "girocard"},
    {CardBrand::dankort, "dankort", "Dankort"},
    {CardBrand::visa_dankort, "visa_dankort", "Visa/Dankort"},
    {CardBrand::bankaxept, "bankaxept", "BankAxept"},
}};

}  // namespace

std::string_view brand_id(CardBrand b) {
    for (const auto& r : kBrands)
        if (r.brand == b) return r.id;
    return "unknown";
}

std::string_view brand_name(CardBrand b) {
    for (const auto& r : kBrands)
        if (r.brand == b) return r.name;
    return "Unknown card";
}

std::optional<CardBrand> brand_from_id(std::string_view id) {
    for (const auto& r : kBrands)
        if (r.id == id) return r.brand;
    return std::nullopt;
}

std::optional<MaskedPan> MaskedPan::from_digits(std::string_view text) {
    if (text.size() > 19) return std::nullopt;
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        if (ch >= '0' && ch <= '9')
            out += ch;
        else if (ch == 'E' || ch == 'e' || ch == '*' || ch == 'X' || ch == 'x')
            out += '*';
        else
            return std::nullopt;
    }
    // PCI DSS 3.4: at most the first six and last four digits may be displayed.
    const std::size_t n = out.size();
    for (std::size_t i = 0; i < n; ++i) {
        const bool head = i < 6 && n > 10;
        const bool tail = i + 4 >= n;
        if (!head && !tail) out[i] = '*';
    }
    if (n <= 10)  // short numbers: show only the last four
        for (std::size_t i = 0; i + 4 < n; ++i) out[i] = '*';
    MaskedPan p;
    p.text_ = std::move(out);
    return p;
}

std::string MaskedPan::leading_digits() const {
    std::string lead;
    for (char ch : text_) {
        if (ch == '*') break;
        lead += ch;
    }
    return lead;
}

}  // namespace pb
