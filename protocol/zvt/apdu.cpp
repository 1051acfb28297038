#include "protocol/zvt/apdu.hpp"

#include <string>

namespace pb::zvt {
namespace {

// Header size and announced data length, or nullopt when the header is not complete yet.
struct Header {
    std::size_t size;
    std::size_t length;
};

std::optional<Header> read_header(ByteView b) {
    if (b.size() < 3) return std::nullopt;
    if (b[2] != 0xFF) return Header{3, b[2]};
    // PA00P016 §5.2.4: FF announces a 2-byte length, low byte first.
    if (b.size() < 5) return std::nullopt;
    return Header{5, static_cast<std::size_t>(b[3] | (b[4] << 8))};
}

}  // namespace

Bytes encode_apdu(const Apdu& apdu) {
    Bytes out;
    const std::size_t n = apdu.data.size();
    out.reserve(n + 5);
    out.push_back(apdu.cls);
    out.push_back(apdu.instr);
    if (n < 0xFF) {
        out.push_back(static_cast<std::uint8_t>(n));
    } else {
        out.push_back(0xFF);
        out.push_back(static_cast<std::uint8_t>(n & 0xFF));
        out.push_back(static_cast<std::uint8_t>((n >> 8) & 0xFF));
    }
    out.insert(out.end(), apdu.data.begin(), apdu.data.end());
    return out;
}

Expected<Apdu, DecodeError> decode_apdu(ByteView bytes) {
    if (bytes.size() < 3)
        return unexpected(DecodeError{Error::apdu_truncated_header, bytes.size(),
                                      std::to_string(bytes.size()) + " bytes"});
    const auto h = read_header(bytes);
    if (!h)
        return unexpected(DecodeError{Error::apdu_truncated_ext_length, bytes.size(),
                                      "need 5 header bytes, have " + std::to_string(bytes.size())});
    if (bytes.size() - h->size != h->length)
        return unexpected(DecodeError{Error::apdu_length_mismatch, 2,
                                      "announced " + std::to_string(h->length) + ", present " +
                                          std::to_string(bytes.size() - h->size)});
    Apdu a;
    a.cls = bytes[0];
    a.instr = bytes[1];
    a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(h->size), bytes.end());
    return a;
}

TcpDecode decode_tcp(ByteView buffer, std::size_t max_data) {
    const auto h = read_header(buffer);
    if (!h) return {0, NeedMore{}};
    if (h->length > max_data) {
        // The stream cannot be resynchronised (no framing on TCP): consume the header so the
        // caller makes progress, and let the link drop the connection.
        return {h->size, DecodeError{Error::apdu_too_long, 2,
                                     "announced " + std::to_string(h->length) + ", limit " +
                                         std::to_string(max_data)}};
    }
    if (buffer.size() < h->size + h->length) return {0, NeedMore{}};
    Apdu a;
    a.cls = buffer[0];
    a.instr = buffer[1];
    a.data.assign(buffer.begin() + static_cast<std::ptrdiff_t>(h->size),
                  buffer.begin() + static_cast<std::ptrdiff_t>(h->size + h->length));
    return {h->size + h->length, std::move(a)};
}

}  // namespace pb::zvt
