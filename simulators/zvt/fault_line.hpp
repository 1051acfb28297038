#pragma once
// The simulator's side of a physical line with the transport faults applied (README,
// "Faults"): garbage before frames, corrupted CRCs of outgoing frames, NAKs of incoming
// frames (by spoiling their CRC so the transport NAKs them itself), slow bytes.
//
// A FaultLine owns the real link and keeps one read running on it for its whole life, so a
// serial line outlives the APDU channels on top of it: when a channel gives up (transmission
// error after the repeats, [ZVT-TP] §3.5) the simulator opens a new session on the same pty
// or device instead of losing it. One session at a time; opening one closes the previous.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "adapters/link.hpp"
#include "simulators/zvt/faults.hpp"

namespace pb::sim {

class FaultLine : public std::enable_shared_from_this<FaultLine> {
public:
    /// `faults` is the engine's fault set (counters are consumed here); `fired` is told the
    /// name of every transport fault that fires, for the journal and log.
    static std::shared_ptr<FaultLine> create(adapters::LinkPtr inner, bool serial, FaultSet& faults,
                                             std::function<void(std::string_view)> fired);
    ~FaultLine();

    /// A Link for a new APDU channel; closes the previous session.
    adapters::LinkPtr session();
    void close();
    bool failed() const { return static_cast<bool>(error_); }
    std::string description() const;

private:
    class Session;
    struct SessionState;
    FaultLine(adapters::LinkPtr inner, bool serial, FaultSet& faults,
              std::function<void(std::string_view)> fired);
    void read_loop();
    void deliver();
    void spoil_incoming(std::uint8_t* data, std::size_t n);
    void write(std::shared_ptr<SessionState> s, adapters::asio::const_buffer b, adapters::IoHandler h);

    adapters::LinkPtr inner_;
    bool serial_;
    FaultSet& faults_;
    std::function<void(std::string_view)> fired_;
    std::uint8_t read_buf_[4096];
    std::deque<std::uint8_t> rx_;
    adapters::error_code error_;
    std::shared_ptr<SessionState> current_;
    // Incoming frame scanner for the nak fault ([ZVT-TP] §3.1 framing).
    enum class Scan : std::uint8_t { outside, dle_outside, inside, dle_inside, crc1, crc2 } scan_ = Scan::outside;
    bool spoil_this_frame_ = false;
};

}  // namespace pb::sim
