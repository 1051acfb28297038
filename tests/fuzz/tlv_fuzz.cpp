// TLV container: decode, and what decodes re-encodes (minimal lengths) to an equal tree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "protocol/zvt/tlv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto t = pb::zvt::decode_tlv(pb::ByteView(data, size));
    if (!t) return 0;
    const auto again = pb::zvt::decode_tlv(pb::zvt::encode_tlv(*t));
    if (!again || !(*again == *t)) std::abort();
    return 0;
}
