#include "adapters/upstream_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

namespace pb::adapters {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxReplyBytes = 1 << 20;

struct Shared {
    bool alive = true;
};

CallErrc classify(const error_code& ec) {
    if (ec == beast::error::timeout) return CallErrc::timeout;
    if (ec == asio::error::operation_aborted) return CallErrc::canceled;
    if (ec.category() == asio::error::get_ssl_category() || ec == ssl::error::stream_truncated) return CallErrc::tls;
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::broken_pipe || ec == http::error::partial_message)
        return CallErrc::reset;
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) return CallErrc::bad_reply;
    return CallErrc::connect;
}

// Everything a call needs; shared by the client and its calls in flight, so a call that
// outlives the client (bounded by its deadline) never touches freed memory.
class Core {
public:
    Core(asio::any_io_executor ex, UpstreamEndpoint ep) : ex_(std::move(ex)), ep_(std::move(ep)) {}

    Expected<void, std::string> init() {
        if (!ep_.url.tls) return {};
        tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
        tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        error_code ec;
        if (ep_.verify_peer) {
            tls_->set_verify_mode(ssl::verify_peer, ec);
            if (!ep_.ca_file.empty())
                tls_->load_verify_file(ep_.ca_file, ec);
            else
                tls_->set_default_verify_paths(ec);
            if (ec) return unexpected(ep_.name + ": cannot load CA certificates '" + ep_.ca_file + "': " + ec.message());
        } else {
            tls_->set_verify_mode(ssl::verify_none, ec);
        }
        if (!ep_.client_cert_file.empty() || !ep_.client_key_file.empty()) {
            tls_->use_certificate_chain_file(ep_.client_cert_file, ec);
            if (ec) return unexpected(ep_.name + ": cannot load client certificate '" + ep_.client_cert_file + "': " + ec.message());
            tls_->use_private_key_file(ep_.client_key_file, ssl::context::pem, ec);
            if (ec) return unexpected(ep_.name + ": cannot load client key '" + ep_.client_key_file + "': " + ec.message());
            if (SSL_CTX_check_private_key(tls_->native_handle()) != 1)
                return unexpected(ep_.name + ": client key does not match the certificate");
        }
        return {};
    }

    const UpstreamEndpoint& endpoint() const { return ep_; }
    const asio::any_io_executor& executor() const { return ex_; }

    CallError fail(const error_code& ec, std::string_view step, std::chrono::milliseconds timeout) const {
        CallErrc code = classify(ec);
        std::string msg = ep_.name + ": ";
        if (code == CallErrc::timeout)
            msg += "no answer within " + std::to_string(timeout.count()) + " ms (" + std::string(step) + ")";
        else
            msg += std::string(step) + " failed: " + ec.message();
        return CallError{code, msg};
    }

    http::request<http::string_body> make_request(const HttpCall& c) const {
        http::request<http::string_body> req;
        req.method_string(c.method);
        req.target(ep_.url.target(c.path));
        req.version(11);
        bool default_port = (ep_.url.tls && ep_.url.port == 443) || (!ep_.url.tls && ep_.url.port == 80);
        std::string host = ep_.url.host.find(':') != std::string::npos ? "[" + ep_.url.host + "]" : ep_.url.host;
        req.set(http::field::host, default_port ? host : host + ":" + std::to_string(ep_.url.port));
        req.set(http::field::user_agent, "paybridged");
        req.set(http::field::accept, "application/json");
        if (!ep_.bearer_token.empty()) req.set(http::field::authorization, "Bearer " + ep_.bearer_token);
        if (!c.idempotency_key.empty()) req.set("Idempotency-Key", c.idempotency_key);
        if (!c.body.empty() || c.method == "POST") {
            req.set(http::field::content_type, "application/json");
            req.body() = c.body;
        }
        req.keep_alive(false);
        req.prepare_payload();
        return req;
    }

    template <class Stream>
    asio::awaitable<CallResult> exchange(Stream& stream, const HttpCall& c, std::chrono::milliseconds timeout) {
        error_code ec;
        auto req = make_request(c);
        co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return unexpected(fail(ec, "sending the request", timeout));
        beast::flat_buffer buf;
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxReplyBytes);
        co_await http::async_read(stream, buf, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == http::error::body_limit)
            co_return unexpected(CallError{CallErrc::bad_reply, ep_.name + ": reply larger than " +
                                                                    std::to_string(kMaxReplyBytes) + " bytes"});
        if (ec) co_return unexpected(fail(ec, "reading the reply", timeout));
        auto res = parser.release();
        co_return HttpReply{res.result_int(), std::move(res.body())};
    }

    asio::awaitable<CallResult> run(HttpCall c, std::chrono::steady_clock::time_point deadline,
                                    std::chrono::milliseconds timeout) {
        error_code ec;
        // Resolve under the deadline too: a hanging DNS lookup is cancelled by the timer.
        auto resolver = std::make_shared<tcp::resolver>(ex_);
        auto timed_out = std::make_shared<bool>(false);
        asio::steady_timer guard(ex_, deadline);
        guard.async_wait([resolver, timed_out](error_code e) {
            if (!e) {
                *timed_out = true;
                resolver->cancel();
            }
        });
        auto endpoints = co_await resolver->async_resolve(ep_.url.host, std::to_string(ep_.url.port),
                                                          asio::redirect_error(asio::use_awaitable, ec));
        guard.cancel();
        if (*timed_out) co_return unexpected(fail(beast::error::timeout, "resolving the host", timeout));
        if (ec) co_return unexpected(fail(ec, "resolving " + ep_.url.host, timeout));

        if (!tls_) {
            beast::tcp_stream stream(ex_);
            stream.expires_at(deadline);
            co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return unexpected(fail(ec, "connecting", timeout));
            auto r = co_await exchange(stream, c, timeout);
            stream.socket().shutdown(tcp::socket::shutdown_both, ec);
            co_return r;
        }
        beast::ssl_stream<beast::tcp_stream> stream(ex_, *tls_);
        beast::get_lowest_layer(stream).expires_at(deadline);
        co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return unexpected(fail(ec, "connecting", timeout));
        // SNI and host name verification against the URL's host.
        if (!SSL_set_tlsext_host_name(stream.native_handle(), ep_.url.host.c_str()))
            co_return unexpected(CallError{CallErrc::tls, ep_.name + ": cannot set SNI host name"});
        if (ep_.verify_peer) stream.set_verify_callback(ssl::host_name_verification(ep_.url.host));
        co_await stream.async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            auto e = fail(ec, "TLS handshake", timeout);
            if (e.code != CallErrc::timeout) e.code = CallErrc::tls;
            co_return unexpected(std::move(e));
        }
        auto r = co_await exchange(stream, c, timeout);
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
        co_return r;
    }

    asio::any_io_executor ex_;
    UpstreamEndpoint ep_;
    std::unique_ptr<ssl::context> tls_;
};

// co_spawn needs a default-constructible result: an empty optional means "no result".
asio::awaitable<std::optional<CallResult>> run_call(std::shared_ptr<Core> core, HttpCall c,
                                                    std::chrono::steady_clock::time_point deadline,
                                                    std::chrono::milliseconds timeout) {
    co_return co_await core->run(std::move(c), deadline, timeout);
}

class Client final : public UpstreamClient {
public:
    explicit Client(std::shared_ptr<Core> core) : core_(std::move(core)) {}
    ~Client() override { shared_->alive = false; }

    const UpstreamEndpoint& endpoint() const override { return core_->endpoint(); }

    void call(HttpCall c, std::function<void(CallResult)> done) override {
        auto shared = shared_;
        auto timeout = c.timeout.value_or(core_->endpoint().timeout);
        auto deadline = std::chrono::steady_clock::now() + timeout;
        asio::co_spawn(core_->executor(), run_call(core_, std::move(c), deadline, timeout),
                       [shared, done = std::move(done)](std::exception_ptr ep, std::optional<CallResult> r) mutable {
                           if (ep || !r) r = unexpected(CallError{CallErrc::bad_reply, "internal error in the upstream client"});
                           if (!shared->alive) r = unexpected(CallError{CallErrc::canceled, "client destroyed"});
                           done(std::move(*r));
                       });
    }

private:
    std::shared_ptr<Core> core_;
    std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace

std::string_view to_string(CallErrc e) {
    switch (e) {
        case CallErrc::timeout: return "timeout";
        case CallErrc::connect: return "connect";
        case CallErrc::tls: return "tls";
        case CallErrc::reset: return "reset";
        case CallErrc::bad_reply: return "bad_reply";
        case CallErrc::canceled: return "canceled";
    }
    return "connect";
}

Expected<std::unique_ptr<UpstreamClient>, std::string> UpstreamClient::create(asio::any_io_executor executor,
                                                                              UpstreamEndpoint endpoint) {
    auto core = std::make_shared<Core>(std::move(executor), std::move(endpoint));
    if (auto ok = core->init(); !ok) return unexpected(ok.error());
    return std::unique_ptr<UpstreamClient>(std::make_unique<Client>(std::move(core)));
}

}  // namespace pb::adapters
