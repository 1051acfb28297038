#include "protocol/core/bytes.hpp"

namespace pb {

std::optional<std::uint64_t> ByteReader::bcd(std::size_t n) {
    if (n > 9 || remaining() < n) return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t b = data_[pos_ + i];
        const std::uint8_t hi = b >> 4, lo = b & 0x0F;
        if (hi > 9 || lo > 9) return std::nullopt;
        v = v * 100 + hi * 10 + lo;
    }
    pos_ += n;
    return v;
}

void put_bcd(Bytes& out, std::uint64_t value, std::size_t n) {
    const std::size_t start = out.size();
    out.resize(start + n, 0);
    for (std::size_t i = n; i-- > 0;) {
        const std::uint8_t lo = value % 10;
        value /= 10;
        const std::uint8_t hi = value % 10;
        value /= 10;
        out[start + i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
}

std::string to_hex(ByteView data, bool spaced) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(data.size() * 3);
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (spaced && i) s += ' ';
        s += digits[data[i] >> 4];
        s += digits[data[i] & 0x0F];
    }
    return s;
}

std::optional<Bytes> from_hex(std::string_view text) {
    Bytes out;
    int pending = -1;
    bool comment = false;
    for (char ch : text) {
        if (comment) {
            if (ch == '\n') comment = false;
            continue;
        }
        int v;
        if (ch >= '0' && ch <= '9')
            v = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            v = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            v = ch - 'A' + 10;
        else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ':' || ch == '-')
            continue;
        else if (ch == '#') {
            comment = true;
            continue;
        } else
            return std::nullopt;
        if (pending < 0)
            pending = v;
        else {
            out.push_back(static_cast<std::uint8_t>((pending << 4) | v));
            pending = -1;
        }
    }
    if (pending >= 0) return std::nullopt;
    return out;
}

}  // namespace pb
