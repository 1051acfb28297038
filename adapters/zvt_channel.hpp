#pragma once
// A ZVT APDU channel over a Link: APDUs in, APDUs out, the transport rules in between.
//  - TCP ([ZVT-TP] §4): APDUs back to back, no framing; the reader copes with arbitrary
//    splits (pb::zvt::decode_tcp, keeping the remainder). A send completes when written.
//  - Serial ([ZVT-TP] §3): DLE/STX framing, CRC, ACK/NAK, T1/T2 and two repeats, run by the
//    pure pb::zvt::SerialTransport with real steady_timers. A send completes on the peer's
//    ACK, or fails with ChannelError::transmission_error after the repeats.
// Side-neutral: the daemon (ECR) and the simulator (PT) use the same channel.
//
// Callbacks run on the link's executor. After close() (or destroying the channel) no
// callback is called again. After on_error the channel is closed; sends still pending got
// their completion with an error first.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "adapters/link.hpp"
#include "protocol/core/bytes.hpp"
#include "protocol/zvt/apdu.hpp"
#include "protocol/zvt/serial_transport.hpp"

namespace pb::adapters {

enum class ChannelError {
    transmission_error = 1,  // serial: NAK/T2 after all repeats (§3.5)
    malformed_stream,        // TCP: an APDU header that cannot be right; the stream is lost
    write_timeout,           // a write did not finish within its deadline
    link_reset,              // the link failed while the send waited for its ACK
};
const boost::system::error_category& channel_category();
error_code make_error_code(ChannelError e);

struct ApduChannelStats {
    std::uint64_t bytes_received = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t apdus_received = 0;
    std::uint64_t apdus_sent = 0;        // completed sends (written on TCP, ACKed on serial)
    std::uint64_t malformed_apdus = 0;   // serial: good frame, undecodable APDU (dropped)
    zvt::SerialTransportStats serial;    // all zero on TCP
};

class ApduChannel {
public:
    using ApduHandler = std::function<void(zvt::Apdu)>;
    using ErrorHandler = std::function<void(error_code, const std::string& detail)>;
    using SendHandler = std::function<void(error_code)>;

    virtual ~ApduChannel() = default;

    /// Set both callbacks, then start() to begin reading.
    virtual void on_apdu(ApduHandler handler) = 0;
    virtual void on_error(ErrorHandler handler) = 0;
    virtual void start() = 0;
    /// Sends one encoded APDU (pb::zvt::encode_apdu); sends go out in call order.
    virtual void send(Bytes apdu, SendHandler done) = 0;
    virtual void close() = 0;
    virtual bool is_open() const = 0;
    virtual std::string description() const = 0;
    virtual ApduChannelStats stats() const = 0;
};

struct TcpChannelOptions {
    std::size_t max_apdu_data = zvt::kMaxApduData;
    std::chrono::milliseconds write_timeout{5000};
};

struct SerialChannelOptions {
    zvt::SerialTransportConfig transport;  // T1 200 ms, T2 5 s, 2 repeats
    std::chrono::milliseconds write_timeout{10000};
    /// Pace writes at `baud` with `bits_per_byte` per byte (a pty does not; the simulator must).
    bool pace = false;
    unsigned baud = 9600;
    unsigned bits_per_byte = 11;  // 8N2
};

std::unique_ptr<ApduChannel> make_tcp_apdu_channel(LinkPtr link, TcpChannelOptions options = {});
std::unique_ptr<ApduChannel> make_serial_apdu_channel(LinkPtr link, SerialChannelOptions options = {});

}  // namespace pb::adapters

template <>
struct boost::system::is_error_code_enum<pb::adapters::ChannelError> : std::true_type {};
