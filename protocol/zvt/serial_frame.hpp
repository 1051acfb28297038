#pragma once
// ZVT serial transport framing (PA00P016 §3): DLE STX <APDU, DLE doubled> DLE ETX CRC-lo CRC-hi.
// The CRC is CRC-16/KERMIT (reflected 0x1021, init 0) over the unstuffed APDU plus ETX,
// sent low byte first and never stuffed. ACK (06) and NAK (15) are single unframed bytes.

#include <cstdint>
#include <variant>

#include "protocol/core/bytes.hpp"
#include "protocol/zvt/apdu.hpp"

namespace pb::zvt {

inline constexpr std::uint8_t DLE = 0x10, STX = 0x02, ETX = 0x03, ACK = 0x06, NAK = 0x15;

/// CRC-16/KERMIT; check("123456789") == 0x2189.
std::uint16_t crc16_kermit(ByteView data, std::uint16_t crc = 0);

/// Wraps already-encoded APDU bytes in a serial frame.
Bytes encode_serial_frame(ByteView apdu_bytes);

struct AckByte {};
struct NakByte {};
/// A complete frame whose CRC matched; `apdu` is the unstuffed APDU bytes.
struct SerialFrame {
    Bytes apdu;
};
/// Result of looking at the start of the receive buffer. `consumed` bytes may be dropped by
/// the caller. A CRC mismatch is reported as DecodeError{frame_crc_mismatch} with consumed
/// covering the whole bad frame, so the link can NAK it and carry on. Garbage before a
/// frame start is consumed and reported as DecodeError{frame_garbage}.
struct SerialDecode {
    std::size_t consumed = 0;
    std::variant<NeedMore, AckByte, NakByte, SerialFrame, DecodeError> result;
};
SerialDecode decode_serial(ByteView buffer, std::size_t max_apdu = kMaxApduData + 5);

}  // namespace pb::zvt
