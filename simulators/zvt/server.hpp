#pragma once
// The running simulator: the engine on one io_context, with a TCP listener (the ECR opens
// and closes connections, [ZVT-TP] §2.2), a serial line (device or a pty pair it creates),
// the control port, the journal and the state file.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "protocol/core/expected.hpp"
#include "protocol/zvt/message.hpp"
#include "simulators/zvt/scenario.hpp"

namespace pb::sim {

struct Endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
};
/// "127.0.0.1:20007", ":20007" or "20007".
Expected<Endpoint, std::string> parse_endpoint(const std::string& text);

struct ServerOptions {
    std::optional<Endpoint> tcp;
    std::string serial;  // "" none, "pty", or a device path
    std::string pty_link;  // with serial "pty": a symlink to the slave, replaced atomically
    unsigned baud = 9600;
    std::string framing = "8N2";
    bool pace = true;
    std::string journal;
    std::string state;
    std::optional<Endpoint> control;
    Scenario scenario;
    /// Called on the loop with every decoded message from the ECR (before the engine sees it)
    /// and every message the PT queues for the ECR. In-process terminal pools (bench/) use it
    /// to timestamp arrivals and count the bytes exchanged; unset in paybridge-sim.
    std::function<void(bool from_ecr, const zvt::Message&)> on_message;
};

class Server {
public:
    static Expected<std::unique_ptr<Server>, std::string> start(boost::asio::io_context& io,
                                                                 ServerOptions options);
    virtual ~Server() = default;
    /// "READY tcp=127.0.0.1:20007 serial=/dev/pts/5 control=127.0.0.1:40001"
    virtual std::string ready_line() const = 0;
};

}  // namespace pb::sim
