#pragma once
// Decoding errors of the ZVT layer: one enumerator per violation, each with a message.
// Decoders never throw; every bad input becomes a DecodeError saying what and where.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pb::zvt {

enum class Error : std::uint8_t {
    // APDU (PA00P016 §5.2)
    apdu_truncated_header,       // fewer than 3 bytes (control field + length)
    apdu_truncated_ext_length,   // FF without the two extended-length bytes
    apdu_length_mismatch,        // announced length != bytes present (exact decode)
    apdu_too_long,               // above the configured limit
    // Serial framing (PA00P016 §3)
    frame_bad_escape,            // DLE followed by something other than DLE/ETX inside a frame
    frame_crc_mismatch,          // CRC-16/KERMIT over APDU+ETX differs from the received one
    frame_too_long,              // unstuffed APDU exceeds the limit
    frame_garbage,               // bytes outside a frame that are neither ACK, NAK nor DLE STX
    // Fields and BMPs (PA00P015 ch. 13)
    bmp_unknown,                 // BMP number not in the spec's summary table
    bmp_truncated,               // BMP value shorter than its format
    bmp_bad_bcd,                 // non-decimal nibble in a BCD field
    bmp_bad_llvar,               // LL/LLL prefix byte not of the form Fx with x in 0..9
    bmp_duplicate,               // the same BMP twice in one APDU
    field_missing,               // a mandatory fixed field of the command is absent
    field_invalid,               // a fixed field has a value the spec does not allow
    trailing_bytes,              // bytes left after the last field of a fixed layout
    // TLV container (PA00P015 §9)
    tlv_truncated,               // tag, length or value runs past the container
    tlv_tag_too_long,            // multi-byte tag longer than 4 bytes
    tlv_bad_length,              // length form other than 00..7F, 81 xx, 82 hi lo
    tlv_too_deep,                // constructed nesting beyond the limit
    tlv_too_many,                // more elements than the limit
};

std::string_view error_name(Error e);     // "frame_crc_mismatch"
std::string_view error_message(Error e);  // "CRC of serial frame does not match"

struct DecodeError {
    Error code;
    std::size_t offset = 0;  // byte offset in the input where the violation was found
    std::string detail;      // e.g. "BMP 0x04 needs 6 bytes, 3 left"

    /// "frame_crc_mismatch at byte 14: CRC of serial frame does not match (expected 11b1, got 11b2)"
    std::string to_string() const;
};

}  // namespace pb::zvt
