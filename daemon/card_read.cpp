#include "daemon/card_read.hpp"

namespace pb::daemon {

Expected<std::string, std::string> commitment_card_id(std::string_view track2, const CommitmentCardsConfig& cards) {
    const std::string_view number = track2.substr(0, track2.find('='));
    if (number.empty() || number.find_first_not_of("0123456789") != std::string_view::npos)
        return unexpected(std::string("the card read carries no card number"));
    for (const auto& iin : cards.iins)
        if (number.starts_with(iin)) return cards.id_prefix + std::string(number);
    const std::string_view last4 = number.size() > 4 ? number.substr(number.size() - 4) : std::string_view{};
    return unexpected("the card read (ending " + std::string(last4.empty() ? "?" : last4) +
                      ") is not a commitment card: its number matches no [commitment_cards] iins");
}

}  // namespace pb::daemon
