// libFuzzer target: ERP requests, replies and events (protocol/erp). Invariant beyond "no crash":
// an accepted request re-encodes to JSON that parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/erp/event.hpp"
#include "protocol/erp/reply.hpp"
#include "protocol/erp/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view raw(reinterpret_cast<const char*>(data), size);
    auto req = pb::erp::parse_request(raw);
    if (req) {
        auto again = pb::erp::parse_request(pb::erp::encode_request(*req));
        if (!again || !(*again == *req)) std::abort();
    } else {
        (void)pb::erp::encode_error(req.error());
    }
    (void)pb::erp::parse_reply(raw);
    if (auto ev = pb::erp::parse_event(raw)) (void)pb::erp::encode_event(*ev);
    return 0;
}
