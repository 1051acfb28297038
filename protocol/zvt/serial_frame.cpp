#include "protocol/zvt/serial_frame.hpp"

#include <cstdio>
#include <string>

namespace pb::zvt {
namespace {

std::string hex16(std::uint16_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04x", v);
    return buf;
}

bool frame_start_candidate(std::uint8_t b) { return b == DLE || b == ACK || b == NAK; }

// Consumes a run of garbage starting at 0 up to (not including) the next byte that could
// start something meaningful.
SerialDecode garbage(ByteView buffer, std::size_t from) {
    std::size_t end = from;
    while (end < buffer.size() && !frame_start_candidate(buffer[end])) ++end;
    if (end == 0) end = 1;  // a lone DLE not followed by STX
    return {end, DecodeError{Error::frame_garbage, 0,
                             std::to_string(end) + " byte(s) outside a frame, first " +
                                 to_hex(buffer.subspan(0, 1))}};
}

}  // namespace

std::uint16_t crc16_kermit(ByteView data, std::uint16_t crc) {
    // PA00P016 §3.3 names x^16+x^15+x^10+x^3, i.e. the reflected form 0x8408 of 0x1021;
    // every terminal and open implementation computes CRC-16/KERMIT (init 0, no xorout).
    for (std::uint8_t b : data) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0x8408)
                                                    : static_cast<std::uint16_t>(crc >> 1);
    }
    return crc;
}

Bytes encode_serial_frame(ByteView apdu_bytes) {
    Bytes out;
    out.reserve(apdu_bytes.size() + 8);
    out.push_back(DLE);
    out.push_back(STX);
    for (std::uint8_t b : apdu_bytes) {
        out.push_back(b);
        if (b == DLE) out.push_back(DLE);  // §3.1: DLE doubled, the copy is not in the CRC
    }
    out.push_back(DLE);
    out.push_back(ETX);
    const std::uint8_t etx = ETX;
    const std::uint16_t crc = crc16_kermit(ByteView{&etx, 1}, crc16_kermit(apdu_bytes));
    // Low byte first and never stuffed (what ecrterm, Portalum and zvtlib send).
    out.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    out.push_back(static_cast<std::uint8_t>(crc >> 8));
    return out;
}

SerialDecode decode_serial(ByteView buffer, std::size_t max_apdu) {
    if (buffer.empty()) return {0, NeedMore{}};
    const std::uint8_t first = buffer[0];
    if (first == ACK) return {1, AckByte{}};
    if (first == NAK) return {1, NakByte{}};
    if (first != DLE) return garbage(buffer, 0);
    if (buffer.size() < 2) return {0, NeedMore{}};
    if (buffer[1] != STX) return garbage(buffer, 1);

    Bytes apdu;
    std::size_t i = 2;
    while (true) {
        if (i >= buffer.size()) return {0, NeedMore{}};
        const std::uint8_t b = buffer[i];
        if (b != DLE) {
            apdu.push_back(b);
            ++i;
        } else {
            if (i + 1 >= buffer.size()) return {0, NeedMore{}};
            const std::uint8_t n = buffer[i + 1];
            if (n == DLE) {
                apdu.push_back(DLE);
                i += 2;
            } else if (n == ETX) {
                // CRC bytes follow unstuffed: read exactly two raw bytes.
                if (i + 4 > buffer.size()) return {0, NeedMore{}};
                const std::uint8_t etx = ETX;
                const std::uint16_t want = crc16_kermit(ByteView{&etx, 1}, crc16_kermit(apdu));
                const std::uint16_t got =
                    static_cast<std::uint16_t>(buffer[i + 2] | (buffer[i + 3] << 8));
                if (want != got)
                    return {i + 4, DecodeError{Error::frame_crc_mismatch, i + 2,
                                               "expected " + hex16(want) + ", got " + hex16(got)}};
                return {i + 4, SerialFrame{std::move(apdu)}};
            } else if (n == STX) {
                // A new frame starts inside this one (the sender restarted): drop the
                // unfinished frame and resynchronise on the new DLE STX.
                return {i, DecodeError{Error::frame_bad_escape, i, "DLE STX inside a frame"}};
            } else {
                return {i + 2, DecodeError{Error::frame_bad_escape, i,
                                           "DLE followed by " + to_hex(buffer.subspan(i + 1, 1))}};
            }
        }
        if (apdu.size() > max_apdu)
            return {i, DecodeError{Error::frame_too_long, i,
                                   "more than " + std::to_string(max_apdu) + " APDU bytes"}};
    }
}

}  // namespace pb::zvt
