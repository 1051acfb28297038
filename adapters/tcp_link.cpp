#include "adapters/tcp_link.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/stream_link.hpp"

namespace pb::adapters {
namespace {

using tcp = asio::ip::tcp;

std::string endpoint_text(const tcp::endpoint& ep) {
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// One connect attempt: resolver, socket and deadline share this state; whichever finishes
// first completes the handler, the other is cancelled.
struct ConnectOp : std::enable_shared_from_this<ConnectOp> {
    ConnectOp(asio::any_io_executor ex, ConnectHandler h)
        : resolver(ex), socket(ex), timer(ex), handler(std::move(h)) {}
    tcp::resolver resolver;
    tcp::socket socket;
    asio::steady_timer timer;
    ConnectHandler handler;
    bool timed_out = false;
    bool done = false;

    void finish(error_code ec) {
        if (done) return;
        done = true;
        timer.cancel();
        if (timed_out) ec = asio::error::timed_out;
        LinkPtr link;
        if (!ec) link = make_tcp_link(std::move(socket));
        else {
            error_code ignored;
            socket.close(ignored);
        }
        asio::post(timer.get_executor(), asio::append(std::move(handler), ec, std::move(link)));
    }
};

}  // namespace

void async_connect_tcp_impl(asio::any_io_executor ex, std::string host, std::uint16_t port,
                            std::chrono::milliseconds deadline, ConnectHandler handler) {
    auto op = std::make_shared<ConnectOp>(ex, std::move(handler));
    op->timer.expires_after(deadline);
    op->timer.async_wait([op](error_code ec) {
        if (ec || op->done) return;
        op->timed_out = true;
        op->resolver.cancel();
        error_code ignored;
        op->socket.close(ignored);  // the pending connect completes with operation_aborted
    });
    op->resolver.async_resolve(
        host, std::to_string(port), [op](error_code ec, tcp::resolver::results_type results) {
            if (ec || op->timed_out) return op->finish(ec ? ec : asio::error::operation_aborted);
            asio::async_connect(op->socket, results,
                                [op](error_code ec2, const tcp::endpoint&) {
                                    if (!ec2) {
                                        error_code ignored;
                                        op->socket.set_option(tcp::no_delay(true), ignored);
                                    }
                                    op->finish(ec2);
                                });
        });
}

LinkPtr make_tcp_link(tcp::socket socket) {
    error_code ec;
    auto peer = socket.remote_endpoint(ec);
    std::string desc = ec ? std::string("tcp (unconnected)") : "tcp " + endpoint_text(peer);
    return std::make_unique<detail::StreamLink<tcp::socket>>(std::move(socket), std::move(desc));
}

TcpListener::TcpListener(tcp::acceptor acceptor) : acceptor_(std::move(acceptor)) {
    error_code ec;
    port_ = acceptor_.local_endpoint(ec).port();
}

Expected<std::unique_ptr<TcpListener>, error_code> TcpListener::open(asio::any_io_executor ex,
                                                                    const std::string& host,
                                                                    std::uint16_t port) {
    error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return unexpected(ec);
    tcp::acceptor acceptor(ex);
    tcp::endpoint ep(address, port);
    if (acceptor.open(ep.protocol(), ec)) return unexpected(ec);
    if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec)) return unexpected(ec);
    if (acceptor.bind(ep, ec)) return unexpected(ec);
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec)) return unexpected(ec);
    return std::unique_ptr<TcpListener>(new TcpListener(std::move(acceptor)));
}

void TcpListener::async_accept(AcceptHandler handler) {
    acceptor_.async_accept([h = std::move(handler)](error_code ec, tcp::socket s) mutable {
        LinkPtr link;
        if (!ec) {
            error_code ignored;
            s.set_option(tcp::no_delay(true), ignored);
            link = make_tcp_link(std::move(s));
        }
        std::move(h)(ec, std::move(link));
    });
}

std::string TcpListener::description() const {
    error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    return ec ? std::string("tcp listener (closed)") : "tcp listener " + endpoint_text(ep);
}

void TcpListener::close() {
    error_code ignored;
    acceptor_.close(ignored);
}

}  // namespace pb::adapters
