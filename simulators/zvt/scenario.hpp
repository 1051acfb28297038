#pragma once
// What the simulated terminal is and how its cards behave: terminal identity, the default
// card, timing, amount rules and start-up faults. Loaded from a TOML or JSON scenario file
// (simulators/README.md, "Scenario file"); every key has a default, so no file is needed.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/core/card.hpp"
#include "protocol/core/expected.hpp"
#include "simulators/zvt/faults.hpp"

namespace pb::sim {

struct Card {
    CardBrand brand = CardBrand::visa;
    std::string masked_pan = "476173******0119";  // never a full PAN
    std::string name = "VISA";                    // BMP 8B
};

/// What happens to a transaction whose amount (in minor units, as decimal digits) ends in
/// `suffix`.
enum class Outcome : std::uint8_t {
    approve,
    decline,             // 04 0F with `result_code`, then 06 1E
    no_card,             // no card presented: 06 1E 6C after card_timeout
    pin_wrong_once,      // 04 FF 15 "incorrect PIN", then PIN again, then approved
    card_left_inserted,  // approved; terminal status DC until the ECR sends 06 B0
};
std::string_view outcome_name(Outcome o);

struct AmountRule {
    std::string suffix;  // decimal digits
    Outcome outcome = Outcome::approve;
    std::uint8_t result_code = 0x05;  // for decline
    std::optional<Card> card;         // card used instead of the default
};

struct Scenario {
    std::uint32_t tid = 52523535;        // BMP 29, 8 digits
    std::uint16_t currency = 978;        // ISO 4217 numeric (EUR); SEK 752, NOK 578, DKK 208
    std::uint32_t password = 123456;     // checked on admin commands
    std::string sw_version = "PBSIM-1.0";
    Card card;
    std::chrono::milliseconds card_delay{0};       // insert card -> card read
    std::chrono::milliseconds card_timeout{5000};  // no_card: abort 6C after this
    std::chrono::milliseconds ack_timeout{5000};   // ECR answer to PT messages (T3)
    std::chrono::milliseconds status_repeat{2000}; // after 84 9C to 04 0F (§2.2.6)
    std::vector<AmountRule> rules;                 // checked before the default rules
    /// The card a Read Card (06 C0, §2.21) finds: track 2 as digits with '=' (a customer
    /// card such as a commitment card). Empty: no card is presented, 06 1E 6C after the
    /// command's timeout.
    std::string read_card_track2;
    FaultSet faults;

    /// The rule for an amount: scenario rules first, then the built-in ones (README).
    AmountRule rule_for(std::int64_t amount) const;
};

/// Track 2 for Read Card: empty (no card) or 1..37 characters (ISO/IEC 7813), digits with at
/// most one '=' after at least one digit. The error says what is wrong.
Expected<void, std::string> check_track2(std::string_view track2);

/// Built-in amount rules (documented in simulators/README.md).
const std::vector<AmountRule>& default_rules();

/// Loads a scenario from TOML (.toml) or JSON (.json); the error names the bad key.
Expected<Scenario, std::string> load_scenario(const std::string& path);

}  // namespace pb::sim
