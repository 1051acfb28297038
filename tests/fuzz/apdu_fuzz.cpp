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
        // PA00P015 §2.56: after a Status Enquiry the optional LLLVAR software version comes
        // before the terminal status byte, so a status Fx followed by BMP bytes Fy Fz is
        // ambiguous on the wire; the decoder's reading is one of two valid ones. A dropped
        // field (CVV, track data) shifts the bytes and can flip that reading: not a defect.
        if (ctx == Command::status_enquiry && !m->sw_version && m->status && (*m->status & 0xF0) == 0xF0) continue;
        const auto again = decode_message(encode_message(*m), DecodeContext{ctx});
        Message expected = *m;
        expected.fields.track_length.reset();  // track data is never re-sent, by design
        if (!again || !(*again == expected)) std::abort();
    }
    return 0;
}
