// Serial deframer: any bytes, consumed in the pieces decode_serial reports, never stall.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "protocol/zvt/serial_frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pb::ByteView rest(data, size);
    while (!rest.empty()) {
        const auto d = pb::zvt::decode_serial(rest, 512);
        if (std::holds_alternative<pb::zvt::NeedMore>(d.result)) break;
        if (d.consumed == 0 || d.consumed > rest.size()) std::abort();
        rest = rest.subspan(d.consumed);
    }
    return 0;
}
