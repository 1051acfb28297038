#pragma once
// One ZVT payment terminal as the daemon sees it: a link (TCP or serial), the APDU channel
// with its transport rules, and the pure ECR session (protocol/zvt/ecr_session.hpp) with real
// T3/T4 timers. It connects, registers (06 00) after every connect, reconnects with backoff,
// and runs one operation at a time.
//
// The driver decides nothing about payments: the orchestration starts operations and is told
// progress, receipts and the outcome. The one thing it enforces is the commit rule: an
// approving Status-Information is acknowledged only after the persist callback reports the
// result durable (PA00P015 §2.2.8/§2.2.9).
//
// Everything runs on the io_context the driver was made with; not thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "protocol/zvt/ecr_session.hpp"

namespace pb::adapters {

struct ZvtTerminalOptions {
    std::string id;  // configured terminal id, for logs and events
    // Exactly one transport:
    std::optional<std::string> tcp_host;
    std::uint16_t tcp_port = 20007;           // PA00P016 §2.2 default
    std::optional<std::string> serial_device;  // resolved device path
    unsigned baud = 9600;
    unsigned stop_bits = 2;                    // 8N2 (PA00P016 §2.1) or 8N1
    zvt::EcrConfig ecr;                        // password, currency, printing, T3/T4
    std::chrono::milliseconds t1{200};         // serial inter-byte (PA00P016 §3.4)
    std::chrono::milliseconds t2{5000};        // serial ACK wait
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds backoff_min{500};
    std::chrono::milliseconds backoff_max{30000};
    /// Status Enquiry (05 01) while idle, every this long; 0 = off. [ZVT-CMD] §2.56 asks for
    /// one at least every minute. While it runs the terminal is busy (begin() returns false).
    std::chrono::milliseconds status_poll_interval{0};
};

enum class TerminalState : std::uint8_t {
    offline,      // not connected (backing off or connecting)
    registering,  // connected, 06 00 under way
    ready,        // idle, takes work
    busy,         // an operation is running
};
std::string_view terminal_state_name(TerminalState s);

struct ZvtTerminalCallbacks {
    /// Online/offline/busy changes (for events, the dashboard and metrics).
    std::function<void(TerminalState, const std::string& detail)> on_state;
    std::function<void(const zvt::Progress&)> on_progress;
    std::function<void(const zvt::ReceiptText&)> on_receipt;
    /// Make the result durable, then call `done(true)`; `done(false)` if it could not be
    /// stored: the driver then withholds the acknowledgement and drops the link, so the
    /// terminal reverses (§2.2.8). `done` may be called later from the same io_context.
    std::function<void(const zvt::PersistResult&, std::function<void(bool)> done)> on_persist;
    /// The operation's outcome. Always called exactly once per accepted start().
    std::function<void(const zvt::Finished&)> on_finished;
};

class ZvtTerminal {
public:
    static std::unique_ptr<ZvtTerminal> create(boost::asio::any_io_executor ex, ZvtTerminalOptions options,
                                                ZvtTerminalCallbacks callbacks);
    virtual ~ZvtTerminal() = default;

    /// Connects (and keeps reconnecting with backoff) until stop().
    virtual void start() = 0;
    /// Closes the link; an operation in flight finishes as the session decides (unknown
    /// before the commit point). No callbacks after stop() returns except that on_finished.
    virtual void stop() = 0;

    /// Starts an operation. Returns false (and calls nothing) if the terminal is not ready.
    virtual bool begin(const zvt::OperationRequest& request) = 0;
    /// Asks the terminal to abort the running payment (06 B0); no-op when not possible.
    virtual void abort() = 0;

    virtual TerminalState state() const = 0;
    virtual const std::string& id() const = 0;
    /// TID and last terminal status reported by the terminal, for status queries.
    virtual std::optional<std::uint32_t> tid() const = 0;
    virtual std::optional<std::uint8_t> terminal_status() const = 0;
};

}  // namespace pb::adapters
