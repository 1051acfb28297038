#pragma once
// TCP links: the ECR side connects (with a deadline), the simulator side listens and accepts.
// ZVT over TCP: default port 20007, the ECR opens and closes the connection ([ZVT-TP] §2.2).

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "adapters/link.hpp"
#include "protocol/core/expected.hpp"

namespace pb::adapters {

using ConnectHandler = asio::any_completion_handler<void(error_code, LinkPtr)>;

/// Resolves `host` and connects; completes with asio::error::timed_out when `deadline`
/// passes first (the resolver and socket are cancelled). Completes exactly once.
void async_connect_tcp_impl(asio::any_io_executor ex, std::string host, std::uint16_t port,
                            std::chrono::milliseconds deadline, ConnectHandler handler);

template <class Token>
auto async_connect_tcp(asio::any_io_executor ex, std::string host, std::uint16_t port,
                       std::chrono::milliseconds deadline, Token&& token) {
    return asio::async_initiate<Token, void(error_code, LinkPtr)>(
        [](auto handler, asio::any_io_executor e, std::string h, std::uint16_t p,
           std::chrono::milliseconds d) {
            async_connect_tcp_impl(std::move(e), std::move(h), p, d, ConnectHandler(std::move(handler)));
        },
        token, std::move(ex), std::move(host), port, deadline);
}

/// Wraps a connected socket; the description names the peer ("tcp 127.0.0.1:51234").
LinkPtr make_tcp_link(asio::ip::tcp::socket socket);

/// Accepts TCP connections, each as a Link (the simulator's PT side).
class TcpListener {
public:
    /// Binds and listens on host:port; port 0 picks an ephemeral port (see port()).
    static Expected<std::unique_ptr<TcpListener>, error_code> open(asio::any_io_executor ex,
                                                                   const std::string& host,
                                                                   std::uint16_t port);
    using AcceptHandler = asio::any_completion_handler<void(error_code, LinkPtr)>;
    void async_accept(AcceptHandler handler);
    std::uint16_t port() const { return port_; }
    std::string description() const;
    void close();

private:
    explicit TcpListener(asio::ip::tcp::acceptor acceptor);
    asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
};

}  // namespace pb::adapters
