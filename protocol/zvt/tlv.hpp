#pragma once
// The TLV container of BMP 06 (PA00P015 §9): BER-like tags (multi-byte when the low five
// bits of the first byte are all set), lengths 00..7F, 81 xx, 82 hi lo (big-endian).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/core/bytes.hpp"
#include "protocol/core/expected.hpp"
#include "protocol/zvt/error.hpp"

namespace pb::zvt {

inline constexpr std::size_t kMaxTlvDepth = 8;
inline constexpr std::size_t kMaxTlvElements = 1024;

/// Tags used by Paybridge (PA00P015 §9.4).
namespace tag {
inline constexpr std::uint32_t text_line = 0x07;
inline constexpr std::uint32_t attribute = 0x09;
inline constexpr std::uint32_t zvt_command = 0x0A;
inline constexpr std::uint32_t printer_width = 0x12;
inline constexpr std::uint32_t charset = 0x14;
inline constexpr std::uint32_t display_texts = 0x24;
inline constexpr std::uint32_t print_texts = 0x25;
inline constexpr std::uint32_t permitted_commands = 0x26;
inline constexpr std::uint32_t receipt_type = 0x1F07;
inline constexpr std::uint32_t extended_error_code = 0x1F16;
inline constexpr std::uint32_t extended_error_text = 0x1F17;
inline constexpr std::uint32_t receipt_sync = 0x1F1F;  // unique transaction id (ch. 4)
inline constexpr std::uint32_t long_trace = 0x1F2B;
inline constexpr std::uint32_t msg_seq_id = 0x1F73;    // ch. 5
}  // namespace tag

struct TlvNode {
    std::uint32_t tag = 0;             // as on the wire, e.g. 0x1F1F
    Bytes value;                       // primitive: the value; constructed: empty
    std::vector<TlvNode> children;     // constructed (bit 6 of the first tag byte)

    bool constructed() const;
    const TlvNode* find(std::uint32_t t) const;  // first direct child with tag t
    std::string text() const;                    // value as bytes->chars (no conversion)
    friend bool operator==(const TlvNode&, const TlvNode&) = default;
};

/// Decodes a sequence of TLV elements filling all of `bytes`.
Expected<std::vector<TlvNode>, DecodeError> decode_tlv(ByteView bytes,
                                                       std::size_t max_depth = kMaxTlvDepth);
/// Encodes a sequence of elements (minimal length forms).
Bytes encode_tlv(const std::vector<TlvNode>& nodes);

/// Convenience constructors.
TlvNode tlv_primitive(std::uint32_t tag, Bytes value);
TlvNode tlv_text(std::uint32_t tag, std::string_view text);
TlvNode tlv_constructed(std::uint32_t tag, std::vector<TlvNode> children);

}  // namespace pb::zvt
