#pragma once
// An HTTPS/JSON client for one upstream service (protocol/upstream/README.md §1): the base URL,
// bearer token or client certificate and per-call deadline come from the config. One
// connection per call; every step (resolve, connect, TLS handshake, write, read) counts
// against the call's deadline. Replies are handed back as status + body; what they mean is
// for the pure codecs in protocol/upstream/ to decide.
//
// Runs on the caller's executor (the daemon's one io_context); completions are invoked there.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "protocol/core/expected.hpp"
#include "protocol/upstream/wire.hpp"

namespace pb::adapters {

struct UpstreamEndpoint {
    std::string name;  // "commitment": names the service in errors and logs
    upstream::Url url;
    std::string bearer_token;     // "" = none
    std::string client_cert_file;  // PEM; with client_key_file: TLS client certificate
    std::string client_key_file;
    std::string ca_file;           // "" = the system trust store
    bool verify_peer = true;
    std::chrono::milliseconds timeout{5000};
};

struct HttpCall {
    std::string method = "POST";
    std::string path;              // relative to the base URL: "/v1/commitments/check"
    std::string body;              // JSON
    std::string idempotency_key;   // "" for read-only calls
    std::optional<std::chrono::milliseconds> timeout;  // default: the endpoint's
};

struct HttpReply {
    unsigned status = 0;
    std::string body;
};

enum class CallErrc : std::uint8_t {
    timeout,    // the deadline passed
    connect,    // resolve or TCP connect failed (refused, unreachable)
    tls,        // handshake or certificate verification failed
    reset,      // the connection was closed or reset before a complete reply
    bad_reply,  // not HTTP, or a reply larger than the limit
    canceled,   // the client was destroyed
};
std::string_view to_string(CallErrc e);

struct CallError {
    CallErrc code = CallErrc::connect;
    std::string message;  // "commitment: timeout after 5000 ms (reading the reply)"
};

using CallResult = Expected<HttpReply, CallError>;

class UpstreamClient {
public:
    /// Fails with a message if the TLS material cannot be loaded (unreadable certificate,
    /// key not matching, CA file missing).
    static Expected<std::unique_ptr<UpstreamClient>, std::string> create(boost::asio::any_io_executor executor,
                                                                         UpstreamEndpoint endpoint);
    virtual ~UpstreamClient() = default;
    /// Starts a call; `done` runs on the executor exactly once (with canceled if the client is
    /// destroyed first).
    virtual void call(HttpCall call, std::function<void(CallResult)> done) = 0;
    virtual const UpstreamEndpoint& endpoint() const = 0;
};

}  // namespace pb::adapters
