#pragma once
// A card the terminal read for the ECR (ZVT Read Card, PA00P015 §2.21) turned into the id of
// a commitment card, or refused. Track 2 may belong to any card, a payment card included, so
// nothing of it leaves this function except an accepted commitment-card id; a refusal names
// at most the last four digits.

#include <string>
#include <string_view>

#include "daemon/config.hpp"
#include "protocol/core/expected.hpp"

namespace pb::daemon {

/// The card number is track 2 up to its '=' separator (ISO/IEC 7813). Accepted when it
/// starts with one of `cards.iins`; the id is `cards.id_prefix` + the number.
Expected<std::string, std::string> commitment_card_id(std::string_view track2, const CommitmentCardsConfig& cards);

}  // namespace pb::daemon
