#pragma once
// Process-level test harness for paybridge-sim: starts the real simulator binary, waits for
// its READY line with a deadline, and plays the ECR with raw bytes (encoded with pb::zvt,
// never through the daemon). Every wait has a deadline; nothing sleeps.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "protocol/core/bytes.hpp"
#include "protocol/zvt/message.hpp"

namespace pb::simtest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// A fresh temporary directory, removed at destruction.
struct TempDir {
    TempDir();
    ~TempDir();
    std::string path;
    std::string file(const std::string& name) const { return path + "/" + name; }
};

struct SimProcess {
    /// Starts `paybridge-sim zvt --print-ready --tcp 127.0.0.1:0 --control 127.0.0.1:0 <extra>`
    /// with journal and state in `dir`; fails the test if READY does not come within 10 s.
    /// An explicit "--tcp H:P" in `extra` replaces the ephemeral port (restart on the same port).
    SimProcess(const TempDir& dir, std::vector<std::string> extra = {});
    /// `paybridge-sim <subcommand> ...`: "zvt" as above, or "upstream" (--http and --control on
    /// ephemeral loopback ports, state in dir/upstream-state.json; http_port set).
    SimProcess(const TempDir& dir, std::vector<std::string> extra, std::string subcommand);
    ~SimProcess();
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    /// Waits for the process to exit; its exit code, or nullopt on timeout.
    std::optional<int> wait_exit(milliseconds deadline);
    void kill_now();

    /// Sends one control-port command; returns all reply lines, the last being OK/ERR...
    std::vector<std::string> control(const std::string& command);
    std::vector<boost::json::object> journal() const;
    /// Journal records with event == name.
    std::vector<boost::json::object> journal_events(const std::string& name) const;

    pid_t pid = -1;
    bool ready = false;
    void launch(const TempDir& dir, std::vector<std::string> extra);
    std::string subcommand = "zvt";
    std::uint16_t tcp_port = 0;
    std::uint16_t http_port = 0;  // upstream
    std::uint16_t control_port = 0;
    std::string serial_path;
    std::string journal_path;
    std::string state_path;
};

/// The ECR side of a connection. send() encodes a message; recv() decodes the next one with
/// the right DecodeContext (06 0F after 05 01).
class Ecr {
public:
    virtual ~Ecr() = default;
    virtual void send_raw(ByteView apdu) = 0;
    /// Next APDU from the PT, or nullopt when the deadline passes or the link closes.
    virtual std::optional<zvt::Apdu> recv_apdu(milliseconds deadline) = 0;
    /// True if the peer closed the link within the deadline.
    virtual bool closed_within(milliseconds deadline) = 0;

    void send(const zvt::Message& m);
    std::optional<zvt::Message> recv(milliseconds deadline = 3000ms);
    void ack() { send(zvt::make_ack()); }

    /// Answers every PT message with 80 00 until Completion (06 0F) or Abort (06 1E);
    /// returns everything the PT sent from the first answer on. Fails on a timeout.
    std::vector<zvt::Message> run_to_end(milliseconds deadline = 5000ms);

    zvt::Command last_sent = zvt::Command::unknown;
};

class TcpEcr final : public Ecr {
public:
    explicit TcpEcr(std::uint16_t port);
    ~TcpEcr() override;
    void send_raw(ByteView apdu) override;
    std::optional<zvt::Apdu> recv_apdu(milliseconds deadline) override;
    bool closed_within(milliseconds deadline) override;
    /// Raw bytes received and not yet decoded (garbage checks).
    Bytes pending;
    bool saw_garbage = false;

private:
    bool fill(Clock::time_point until);
    int fd_ = -1;
    bool eof_ = false;
};

class SerialEcr final : public Ecr {
public:
    explicit SerialEcr(const std::string& path);
    ~SerialEcr() override;
    /// Frames and ACKs, waiting for the PT's ACK (repeats on NAK like [ZVT-TP] §3.5).
    void send_raw(ByteView apdu) override;
    std::optional<zvt::Apdu> recv_apdu(milliseconds deadline) override;
    bool closed_within(milliseconds) override { return false; }

    int naks_received = 0;      // NAKs the PT sent for our frames
    int bad_crc_frames = 0;     // frames from the PT with a wrong CRC (we NAKed them)
    int garbage_events = 0;     // bytes outside frames
    std::size_t bytes_sent = 0, bytes_received = 0;

private:
    bool fill(Clock::time_point until);
    int fd_ = -1;
    Bytes buf_;
    int acks_pending_ = 0;
};

/// Reads golden APDUs ("name: hex" lines) from tests/data/zvt/golden.hex.
std::vector<std::pair<std::string, Bytes>> golden_apdus();

zvt::Message auth(std::int64_t amount, bool with_currency = true);
zvt::Message registration(std::uint8_t config, bool text_block = false);
zvt::Message admin(zvt::Command c);  // password 123456
zvt::Message with_receipt(zvt::Command c, std::uint16_t receipt);

}  // namespace pb::simtest
