#pragma once
// ZVT serial transport rules (PA00P016 §3.2-3.5) as a pure state machine: no I/O, no clock.
// The caller feeds events (APDUs to send, bytes read from the line, timer expiries) and
// carries out the returned actions (write bytes, start/cancel a timer, deliver an APDU,
// report a send as done or failed). Both sides of the line (ECR and PT) follow the same
// rules, so the machine is side-neutral.
//
//  - Sending (§3.2, §3.5): the frame is written and T2 started; ACK completes the send;
//    NAK or T2 expiry repeats the same frame up to `max_repeats` times, then the send fails
//    with a transmission error. Further sends queue behind the one awaiting its ACK.
//  - Receiving (§3.2, §3.4): a frame with a good CRC is ACKed and its APDU delivered; a CRC
//    mismatch or broken escape is NAKed; T1 (inter-byte gap inside a frame) expiry NAKs and
//    discards the partial frame; bytes outside a frame are dropped and counted.
//
// The transport has no sequence numbers: when our ACK is lost the peer repeats a frame we
// already delivered, and it is delivered again. Duplicate detection belongs to the layer
// above (MsgSeqId, [ZVT-CMD] ch. 5).

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocol/core/bytes.hpp"
#include "protocol/zvt/serial_frame.hpp"

namespace pb::zvt {

enum class SerialTimer : std::uint8_t {
    t1,  // inter-byte gap inside a received frame, §3.4: 200 ms
    t2,  // ACK/NAK of our frame, §3.4: 5 s
};

struct SerialTransportConfig {
    std::uint32_t t1_ms = 200;
    std::uint32_t t2_ms = 5000;
    /// §3.5: "the transmitter repeats the message up to two times".
    unsigned max_repeats = 2;
    /// Largest unstuffed APDU accepted in a frame.
    std::size_t max_apdu = kMaxApduData + 5;
};

// Events and actions live in their own namespace: the ECR session has events of the same
// names (protocol/zvt/ecr_session.hpp).
namespace serial {

// ---- events ---------------------------------------------------------------------------------

/// The upper layer wants `apdu` (encoded APDU bytes) sent; `id` comes back in SendDone or
/// SendFailed.
struct SendApdu {
    std::uint64_t id = 0;
    Bytes apdu;
};
/// Bytes read from the line, in order.
struct BytesReceived {
    ByteView bytes;
};
/// A timer started by StartTimer expired. `generation` is the one from that StartTimer; an
/// expiry of an older generation (cancelled or restarted since) is ignored, so the caller
/// need not worry about an expiry racing with a cancel.
struct TimerExpired {
    SerialTimer timer;
    std::uint64_t generation = 0;
};
/// The link went away: pending and queued sends fail, receive state is dropped.
struct LinkReset {};

}  // namespace serial

using SerialEvent =
    std::variant<serial::SendApdu, serial::BytesReceived, serial::TimerExpired, serial::LinkReset>;

namespace serial {

// ---- actions --------------------------------------------------------------------------------

struct WriteBytes {
    Bytes bytes;
};
/// (Re)start `timer` to expire after `ms`; replaces any running instance of the same timer.
struct StartTimer {
    SerialTimer timer;
    std::uint32_t ms = 0;
    std::uint64_t generation = 0;
};
struct CancelTimer {
    SerialTimer timer;
};
/// A frame with a good CRC arrived (and has been ACKed); `apdu` is the unstuffed APDU.
struct DeliverApdu {
    Bytes apdu;
};
/// The peer ACKed the frame of send `id`.
struct SendDone {
    std::uint64_t id = 0;
};
enum class SendFailure : std::uint8_t {
    transmission_error,  // §3.5: NAK/T2 after all repeats
    link_reset,          // LinkReset before the ACK
};
struct SendFailed {
    std::uint64_t id = 0;
    SendFailure reason = SendFailure::transmission_error;
    std::string detail;  // "3 attempts: NAK, T2, NAK"
};

}  // namespace serial

using SerialAction = std::variant<serial::WriteBytes, serial::StartTimer, serial::CancelTimer,
                                  serial::DeliverApdu, serial::SendDone, serial::SendFailed>;

struct SerialTransportStats {
    std::uint64_t frames_sent = 0;       // first transmissions
    std::uint64_t repeats = 0;           // retransmissions after NAK or T2
    std::uint64_t acks_received = 0;
    std::uint64_t naks_received = 0;
    std::uint64_t t2_expiries = 0;
    std::uint64_t transmission_errors = 0;
    std::uint64_t frames_received = 0;   // good CRC, delivered
    std::uint64_t crc_errors = 0;
    std::uint64_t bad_frames = 0;        // broken escape, too long
    std::uint64_t t1_expiries = 0;       // partial frames discarded on T1
    std::uint64_t naks_sent = 0;
    std::uint64_t garbage_bytes = 0;     // outside any frame, ignored
    std::uint64_t stray_acks = 0;        // ACK/NAK while nothing awaited one
};

class SerialTransport {
public:
    explicit SerialTransport(SerialTransportConfig config = {});

    /// Feeds one event; returns the actions to carry out, in order.
    std::vector<SerialAction> step(const SerialEvent& event);

    const SerialTransportStats& stats() const { return stats_; }
    const SerialTransportConfig& config() const { return config_; }
    /// True while a frame waits for its ACK/NAK.
    bool awaiting_ack() const { return inflight_.has_value(); }
    std::size_t queued_sends() const { return queue_.size(); }
    /// Bytes of a partial frame held while waiting for the rest.
    std::size_t partial_bytes() const { return rx_.size(); }

private:
    struct Outgoing {
        std::uint64_t id = 0;
        Bytes frame;
        unsigned attempts = 0;  // transmissions so far
        std::string history;    // why each repeat happened, for SendFailed::detail
    };

    void on_send(const serial::SendApdu& e, std::vector<SerialAction>& out);
    void on_bytes(ByteView bytes, std::vector<SerialAction>& out);
    void on_timer(const serial::TimerExpired& e, std::vector<SerialAction>& out);
    void on_reset(std::vector<SerialAction>& out);

    void start_next(std::vector<SerialAction>& out);
    void repeat_or_fail(const char* why, std::vector<SerialAction>& out);
    void on_ack(std::vector<SerialAction>& out);
    void start_timer(SerialTimer t, std::vector<SerialAction>& out);
    void nak(std::vector<SerialAction>& out);

    SerialTransportConfig config_;
    SerialTransportStats stats_;
    std::optional<Outgoing> inflight_;
    std::deque<Outgoing> queue_;
    Bytes rx_;                    // undecoded received bytes (a partial frame at most)
    std::uint64_t generation_[2] = {0, 0};  // current generation per timer; 0 = not running
    std::uint64_t next_generation_ = 1;
};

}  // namespace pb::zvt
