#pragma once
// The bitmap (BMP) field codec of PA00P015 ch. 13: one format per BMP number, decoded into
// Fields. Used by message.cpp; public so the simulator and tools can ask for a BMP's format.

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/core/bytes.hpp"
#include "protocol/core/expected.hpp"
#include "protocol/zvt/error.hpp"
#include "protocol/zvt/message.hpp"

namespace pb::zvt {

struct BmpFormat {
    enum class Kind : std::uint8_t { binary, bcd, llvar, lllvar, tlv };
    Kind kind;
    std::uint8_t size;       // fixed length in bytes (binary, bcd); 0 for variable
    std::string_view name;   // "amount", "trace", ...
};

/// Format of a BMP of the spec's summary table; nullopt for a number not in it.
std::optional<BmpFormat> bmp_format(std::uint8_t bmp);

struct FieldOptions {
    bool keep_track2 = false;  // see DecodeContext::keep_track2
};

/// Decodes BMPs filling all of `bytes`; error offsets are `base` + position.
Expected<Fields, DecodeError> decode_fields(ByteView bytes, std::size_t base = 0, FieldOptions opt = {});
/// Appends the present fields as BMPs (wire order first, then canonical order).
void encode_fields(const Fields& f, Bytes& out);

/// Masked PAN from BMP 22 nibbles ('E' -> '*', trailing 'F' padding dropped); the result is
/// masked again through pb::MaskedPan so a terminal sending a clear PAN cannot leak it.
std::optional<std::string> pan_from_nibbles(ByteView bcd);
/// Inverse: digits and '*' to nibbles, padded with F.
Bytes pan_to_nibbles(std::string_view pan);

/// Track 2 (BMP 23) nibbles <-> digits with '=' for the D separator; F pads at the end.
std::optional<std::string> track2_from_nibbles(ByteView bytes);
Bytes track2_to_nibbles(std::string_view track2);

/// LLVAR/LLLVAR prefix (PA00P016 §5.2.8: each length digit in the low nibble of an Fx byte).
void put_llvar(Bytes& out, std::size_t digits, std::size_t length);

}  // namespace pb::zvt
