// APDU + message decoder: whatever decodes re-encodes and decodes to the same message
// (except track data, which Paybridge never keeps).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "protocol/zvt/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pb::zvt;
    const auto tcp = decode_tcp(pb::ByteView(data, size), 4096);
    (void)tcp;
    const auto apdu = decode_apdu(pb::ByteView(data, size));
    if (!apdu) return 0;
    for (Command ctx : {Command::unknown, Command::status_enquiry}) {
        const auto m = decode_message(*apdu, DecodeContext{ctx});
        if (!m) continue;
        const auto again = decode_message(encode_message(*m), DecodeContext{ctx});
        Message expected = *m;
        expected.fields.track_length.reset();  // track data is never re-sent, by design
        if (!again || !(*again == expected)) std::abort();
    }
    return 0;
}
