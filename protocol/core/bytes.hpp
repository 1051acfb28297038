#pragma once
// One bounds-checked reader for every field read of outside input, and hex helpers.
// Every read checks remaining() first; a short read is reported, never performed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pb {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

class ByteReader {
public:
    explicit ByteReader(ByteView data) : data_(data) {}

    std::size_t remaining() const { return data_.size() - pos_; }
    std::size_t position() const { return pos_; }
    bool empty() const { return remaining() == 0; }

    std::optional<std::uint8_t> peek() const {
        if (empty()) return std::nullopt;
        return data_[pos_];
    }
    std::optional<std::uint8_t> u8() {
        if (empty()) return std::nullopt;
        return data_[pos_++];
    }
    /// Little-endian 16-bit (ZVT extended APDU length).
    std::optional<std::uint16_t> u16le() {
        if (remaining() < 2) return std::nullopt;
        std::uint16_t v = static_cast<std::uint16_t>(data_[pos_] | (data_[pos_ + 1] << 8));
        pos_ += 2;
        return v;
    }
    /// Big-endian 16-bit (BER-TLV length 82 hi lo).
    std::optional<std::uint16_t> u16be() {
        if (remaining() < 2) return std::nullopt;
        std::uint16_t v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    std::optional<ByteView> bytes(std::size_t n) {
        if (remaining() < n) return std::nullopt;
        ByteView v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    /// Packed BCD of `n` bytes (2n digits) as an unsigned integer; nullopt on a non-decimal
    /// nibble or a short read. n <= 9.
    std::optional<std::uint64_t> bcd(std::size_t n);
    ByteView rest() {
        ByteView v = data_.subspan(pos_);
        pos_ = data_.size();
        return v;
    }

private:
    ByteView data_;
    std::size_t pos_ = 0;
};

/// Encodes `value` as `n` bytes of packed BCD (2n digits, leading zeros). Caller ensures fit.
void put_bcd(Bytes& out, std::uint64_t value, std::size_t n);
/// Lower-case hex "06 01 0a" style when `spaced`, else "06010a".
std::string to_hex(ByteView data, bool spaced = true);
/// Parses hex, ignoring spaces, tabs, newlines, ':' and '-'; '#' starts a comment to end of
/// line. nullopt on an odd digit count or a non-hex character.
std::optional<Bytes> from_hex(std::string_view text);

}  // namespace pb
