// libFuzzer target: upstream service bodies (protocol/upstream), the replies the daemon reads
// from third parties and the requests the simulator reads. Invariant beyond "no crash": an
// accepted body re-encodes to one that parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/upstream/benefit.hpp"
#include "protocol/upstream/commitment.hpp"
#include "protocol/upstream/ereceipt.hpp"
#include "protocol/upstream/wire.hpp"

namespace {

template <class T, class Parse>
void round_trip(std::string_view raw, Parse parse) {
    auto v = parse(raw);
    if (!v) return;
    auto again = parse(pb::upstream::encode(*v));
    if (!again || !(*again == *v)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace up = pb::upstream;
    std::string_view raw(reinterpret_cast<const char*>(data), size);
    const std::size_t lines = size % 8;
    round_trip<up::CheckReply>(raw, [lines](std::string_view b) { return up::parse_check_reply(b, lines); });
    round_trip<up::CheckRequest>(raw, [](std::string_view b) { return up::parse_check_request(b); });
    round_trip<up::DebitRequest>(raw, [](std::string_view b) { return up::parse_debit_request(b); });
    round_trip<up::DebitReply>(raw, [](std::string_view b) { return up::parse_debit_reply(b); });
    round_trip<up::ReceiptRequest>(raw, [](std::string_view b) { return up::parse_receipt_request(b); });
    round_trip<up::ReceiptReply>(raw, [](std::string_view b) { return up::parse_receipt_reply(b); });
    round_trip<up::VoidRequest>(raw, [](std::string_view b) { return up::parse_void_request(b); });
    round_trip<up::VoidReply>(raw, [](std::string_view b) { return up::parse_void_reply(b); });
    round_trip<up::VoucherVerifyRequest>(raw, [](std::string_view b) { return up::parse_voucher_verify_request(b); });
    round_trip<up::VoucherReply>(raw, [](std::string_view b) { return up::parse_voucher_reply(b); });
    round_trip<up::RedeemRequest>(raw, [](std::string_view b) { return up::parse_redeem_request(b); });
    round_trip<up::RedeemReply>(raw, [](std::string_view b) { return up::parse_redeem_reply(b); });
    round_trip<up::VoucherCancelRequest>(raw, [](std::string_view b) { return up::parse_voucher_cancel_request(b); });
    round_trip<up::VoucherCancelReply>(raw, [](std::string_view b) { return up::parse_voucher_cancel_reply(b); });
    round_trip<up::CreditRequest>(raw, [](std::string_view b) { return up::parse_credit_request(b); });
    round_trip<up::CreditReply>(raw, [](std::string_view b) { return up::parse_credit_reply(b); });
    round_trip<up::ReceiptOpen>(raw, [](std::string_view b) { return up::parse_receipt_open(b); });
    round_trip<up::ReceiptDeliver>(raw, [](std::string_view b) { return up::parse_receipt_deliver(b); });
    round_trip<up::ReceiptCopy>(raw, [](std::string_view b) { return up::parse_receipt_copy(b); });
    round_trip<up::ReceiptAck>(raw, [](std::string_view b) { return up::parse_receipt_ack(b); });
    auto e = up::parse_service_error(500, raw);
    (void)up::encode_service_error(e);
    (void)up::parse_url(raw);
    return 0;
}
