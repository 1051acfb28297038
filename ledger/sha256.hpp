#pragma once
// SHA-256 for the audit chain (OpenSSL's implementation).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pb::ledger::detail {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    Sha256& update(const void* data, std::size_t n);
    Sha256& update(std::string_view s) { return update(s.data(), s.size()); }
    Digest finish();

private:
    void* ctx_;
};

std::string hex(const void* data, std::size_t n);

}  // namespace pb::ledger::detail
