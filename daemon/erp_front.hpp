#pragma once
// The ZeroMQ front towards the ERP: a ROUTER socket for requests and replies and a PUB socket
// for events, both driven by the process's one io_context through their file descriptors (no
// polling thread). Optional CURVE: the server key plus an allow-list of client public keys,
// enforced by a ZAP handler on the same loop, so an unknown client never gets a message in.
//
// The front moves bytes; it does not parse JSON (protocol/erp does). Not thread-safe: call it
// from the io_context's thread only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/core/expected.hpp"

namespace boost::asio {
class io_context;
}

namespace pb::daemon {

struct ErpFrontOptions {
    std::string router_endpoint = "tcp://127.0.0.1:7600";
    std::string pub_endpoint = "tcp://127.0.0.1:7601";
    std::size_t max_message_bytes = 256 * 1024;
    struct Curve {
        std::string server_secret_key;             // Z85, 40 characters
        std::vector<std::string> allowed_clients;  // Z85 public keys
    };
    std::optional<Curve> curve;
};

/// Opaque routing id of one ERP connection (ROUTER identity frame), valid for reply().
using ClientId = std::string;

class ErpFront {
public:
    using RequestHandler = std::function<void(const ClientId& client, std::string json)>;
    /// A request larger than max_message_bytes: the orchestration answers it with its error.
    using OversizeHandler = std::function<void(const ClientId& client, std::size_t size)>;

    struct Stats {
        std::uint64_t requests = 0;
        std::uint64_t replies = 0;
        std::uint64_t published = 0;
        std::uint64_t oversize = 0;
        std::uint64_t malformed = 0;  // wrong frame count
        std::uint64_t send_failures = 0;
        std::uint64_t auth_allowed = 0;
        std::uint64_t auth_denied = 0;
    };

    /// Binds both sockets (and the ZAP handler when CURVE is on); an error says which failed.
    static Expected<std::unique_ptr<ErpFront>, std::string> open(boost::asio::io_context& io,
                                                                  const ErpFrontOptions& options);
    ~ErpFront();
    ErpFront(const ErpFront&) = delete;
    ErpFront& operator=(const ErpFront&) = delete;

    void on_request(RequestHandler handler);
    void on_oversize(OversizeHandler handler);
    /// Sends `json` to `client`; false if the client is gone (ROUTER_MANDATORY) or it failed.
    bool reply(const ClientId& client, std::string_view json);
    /// Publishes a two-frame event [topic, json]; subscribers filter on the topic prefix.
    bool publish(std::string_view topic, std::string_view json);
    /// Stops reading requests and closes the sockets (pending replies are given up to 1 s).
    void close();

    /// The endpoints actually bound (a "tcp://127.0.0.1:*" bind resolves to a real port).
    std::string router_endpoint() const;
    std::string pub_endpoint() const;
    Stats stats() const;

    struct Impl;

private:
    explicit ErpFront(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace pb::daemon
