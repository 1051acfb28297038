#pragma once
// Code tables of PA00P015: result codes (ch. 10), intermediate status (§3.7 table 17),
// terminal status (ch. 11), card-type ids (ch. 12).

#include <cstdint>
#include <string_view>

#include "protocol/core/card.hpp"

namespace pb::zvt {

/// English text of a result code (BMP 27, 06 1E, 84 xx); "unknown result code" otherwise.
std::string_view result_code_text(std::uint8_t code);
/// English text of an intermediate status (04 FF).
std::string_view intermediate_status_text(std::uint8_t code);
/// English text of a terminal status (06 0F after 05 01).
std::string_view terminal_status_text(std::uint8_t code);
/// Card brand for a ZVT card-type id (BMP 8A); CardBrand::unknown if not mapped.
CardBrand brand_from_card_type(std::uint8_t card_type_id);
/// ZVT card-type id for a brand (for the simulator); 0 if none.
std::uint8_t card_type_for_brand(CardBrand brand);

/// Result codes Paybridge acts on (ch. 10).
namespace rc {
inline constexpr std::uint8_t success = 0x00;
inline constexpr std::uint8_t declined_host = 0x05;
inline constexpr std::uint8_t abort_timeout_or_key = 0x6C;
inline constexpr std::uint8_t function_not_possible = 0x83;
inline constexpr std::uint8_t protocol_error = 0x9A;
inline constexpr std::uint8_t please_wait = 0x9C;
inline constexpr std::uint8_t already_reversed = 0xB4;
inline constexpr std::uint8_t reversal_not_possible = 0xB5;
inline constexpr std::uint8_t card_inserted = 0xDC;
inline constexpr std::uint8_t eod_batch_open = 0xF0;
inline constexpr std::uint8_t system_error = 0xFF;
}  // namespace rc

}  // namespace pb::zvt
