#pragma once
// ZVT application protocol data unit (PA00P016 §5.2): control field (CLASS INSTR or
// CCRC APRC), length (1 byte 00..FE, or FF lo hi extended), data block.

#include <cstdint>
#include <variant>

#include "protocol/core/bytes.hpp"
#include "protocol/core/expected.hpp"
#include "protocol/zvt/error.hpp"

namespace pb::zvt {

/// Upper bound on the data block we accept (extended length allows 65535).
inline constexpr std::size_t kMaxApduData = 65535;

struct Apdu {
    std::uint8_t cls = 0;    // CLASS or CCRC
    std::uint8_t instr = 0;  // INSTR or APRC
    Bytes data;

    std::uint16_t control() const { return static_cast<std::uint16_t>((cls << 8) | instr); }
    friend bool operator==(const Apdu&, const Apdu&) = default;
};

/// Serialises an APDU; lengths above 254 use the extended form FF lo hi (§5.2.4).
Bytes encode_apdu(const Apdu& apdu);

/// Decodes exactly one APDU occupying all of `bytes`.
Expected<Apdu, DecodeError> decode_apdu(ByteView bytes);

/// Incremental reader for the TCP transport, where APDUs are sent back to back without
/// framing and "the receiver must be able to deal with arbitrarily separated data" (§4.1).
struct NeedMore {};
struct TcpDecode {
    std::size_t consumed = 0;  // bytes of the input used by this result (0 when NeedMore)
    std::variant<NeedMore, Apdu, DecodeError> result;
};
/// Looks at the start of `buffer`; the caller keeps the unconsumed remainder.
TcpDecode decode_tcp(ByteView buffer, std::size_t max_data = kMaxApduData);

}  // namespace pb::zvt
