#pragma once
// Process-level harness for paybridged: writes a TOML config into a temporary directory,
// starts the real daemon binary, learns its ERP endpoints from the PB_STARTED log line (the
// config binds port "*"), and talks to it as an ERP does: a DEALER for requests, a SUB for
// events (protocol/erp/README.md). The simulator side reuses sim_harness (SimProcess).
// Every wait has a deadline; nothing sleeps.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>
#include <zmq.hpp>

#include "tests/integration/sim_harness.hpp"

namespace pb::daemontest {

using namespace std::chrono_literals;
using simtest::Clock;
using simtest::SimProcess;
using simtest::TempDir;
using std::chrono::milliseconds;
namespace json = boost::json;

/// One [[terminal]] of the generated config: TCP to a simulator's port, or a serial device.
struct TerminalSpec {
    std::string id = "T1";
    std::string register_id = "K1";
    std::uint16_t tcp_port = 0;  // used when device is empty
    std::string device;          // serial: the simulator's pty slave
    std::string currency = "SEK";
    int t3_ms = 3000;
    int t4_ms = 5000;  // ZVT T4 (terminal silence); card waits in tests are cancelled sooner
};

/// The test config: ERP on ephemeral loopback ports, a ledger in `dir`, fast reconnects, and
/// operators with distinct rights (anna: card; carl: card+cash; erik: card+refund;
/// lena: close_day+resolve_interim+take_cash).
std::string daemon_config(const TempDir& dir, const std::vector<TerminalSpec>& terminals);

/// A scenario file for the simulator with fast timings; returns its path.
std::string write_scenario(const TempDir& dir, const std::string& name, int card_timeout_ms, int card_delay_ms = 0,
                           int ack_timeout_ms = 3000);

class DaemonProcess {
public:
    /// Writes `config_toml` to dir/paybridged.toml and starts the daemon; fails the test if
    /// PB_STARTED does not come within 10 s. `env`: extra NAME=value pairs for its environment
    /// (e.g. PB_CRASH_AT); kept for later start()s until changed.
    DaemonProcess(const TempDir& dir, std::string config_toml, std::vector<std::string> env = {});
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    /// Starts again with the same config file and ledger (after kill9 or stop).
    void start();
    void kill9();
    /// SIGTERM, then waits for the exit: its code, or nullopt on timeout.
    std::optional<int> stop(milliseconds deadline = 10s);
    /// Waits for the process to end by itself: its exit code, 128 + signal when a signal
    /// ended it (137: SIGKILL), nullopt on timeout (it keeps running).
    std::optional<int> wait_exit(milliseconds deadline);
    bool running() const { return pid_ > 0; }
    /// The running daemon's process id (-1 when not running); bench/ reads its /proc status.
    pid_t pid() const { return pid_; }

    /// True once the log holds `needle` (from this start on), within the deadline.
    bool wait_log(const std::string& needle, milliseconds deadline);
    std::string log() const;

    std::string router;  // "tcp://127.0.0.1:P"
    std::string pub;
    std::string config_path;
    std::string ledger_path;
    std::vector<std::string> env;  // extra environment of the next start()

private:
    void reader_loop(int fd);
    void join_reader();
    pid_t pid_ = -1;
    std::string log_path_;
    std::thread reader_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::string log_;          // everything this process wrote to stderr, over all starts
    std::size_t log_start_ = 0;  // where the current start's output begins
    bool reader_done_ = false;
};

struct ReceivedEvent {
    std::string topic;
    json::object body;
};

/// An ERP: a DEALER for requests (["", json] frames) and a SUB on "" for every event. Every
/// reply and event is also checked by the C++ codec (parse_reply / parse_event).
class ErpClient {
public:
    ErpClient(const std::string& router, const std::string& pub);
    ~ErpClient();

    /// Fills v and id (unless given), sends, waits for the reply with that id.
    json::object request(json::object req, milliseconds deadline = 8s);
    /// Fills v and id (unless given) and sends without waiting (a daemon that may die before
    /// it answers); the id. A reply arriving later is kept like any other.
    std::string send(json::object& req);
    /// Sends one raw frame; returns the next reply whose id is `id` or null.
    json::object request_raw(const std::string& frame, const std::string& id = "", milliseconds deadline = 8s);

    /// The first event (already received or arriving before the deadline, in order) that
    /// satisfies `pred` and was not taken before by a wait_event. nullopt on timeout.
    std::optional<ReceivedEvent> wait_event(const std::function<bool(const ReceivedEvent&)>& pred,
                                            milliseconds deadline = 8s);
    /// All events received so far (drains the socket without waiting).
    const std::vector<ReceivedEvent>& events();
    /// payment.result of `payment_id` with a final state (not `unknown`, not `sent`).
    std::optional<json::object> wait_result(const std::string& payment_id, milliseconds deadline = 10s,
                                            bool accept_unknown = false);
    /// Until the terminal reports online (terminal.status, then terminal.online events).
    bool wait_online(const std::string& terminal, milliseconds deadline = 10s);
    /// The `result` of payment.get by id; empty object and a failure when it is an error.
    json::object get_payment(const std::string& payment_id);

    std::uint64_t seq_gaps() const { return seq_gaps_; }

private:
    bool pump(milliseconds timeout);  // one poll round; false if nothing arrived
    json::object wait_reply(const std::string& id, const std::string& frame, Clock::time_point until);
    zmq::context_t ctx_;
    zmq::socket_t dealer_;
    zmq::socket_t sub_;
    std::map<std::string, json::object> replies_;  // by id ("" for null)
    std::vector<ReceivedEvent> events_;
    std::vector<bool> taken_;
    std::uint64_t next_id_ = 1;
    std::optional<std::uint64_t> last_seq_;
    std::uint64_t seq_gaps_ = 0;
};

/// Builds a payment.start with the README's required fields.
json::object payment_start(const std::string& order, std::int64_t total, const std::string& terminal = "T1",
                           const std::string& register_id = "K1", const std::string& operator_id = "anna");

/// What the simulator's journal says was really charged (simulators/README.md "Journal"):
/// approved/booked minus reversed (ref_receipt) and implicit_reversed (receipt), by receipt.
struct Charged {
    std::map<std::int64_t, json::object> sales;  // receipt -> approved record
    std::vector<json::object> refunds;
    std::int64_t total() const;
};
Charged charged_by(const SimProcess& sim);

struct HttpReply {
    int status = 0;       // 0: no answer
    std::string headers;  // the raw header block
    std::string body;
};
/// One GET to 127.0.0.1:port with Connection: close, read to EOF with a deadline.
HttpReply http_get(std::uint16_t port, const std::string& path, milliseconds deadline = 5s);

std::string str(const json::object& o, std::string_view key);   // "" when absent / not a string
std::int64_t num(const json::object& o, std::string_view key);   // -1 when absent / not a number
std::string dump(const json::value& v);

}  // namespace pb::daemontest
