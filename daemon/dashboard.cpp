// The dashboard's HTTP server: Boost.Beast on the daemon's executor, one Session per
// connection, callbacks only (no coroutines, no thread). Beast stays in this file.
#include "daemon/dashboard.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <atomic>
#include <exception>
#include <map>
#include <optional>
#include <utility>

#include "daemon/dashboard_page.hpp"

namespace pb::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// After an error response the client may still be sending (an oversized header): read and
// discard for a moment so that closing does not reset the connection before the client has
// read the response (RFC 9112 §9.6, "lingering close").
constexpr std::chrono::milliseconds kLinger{2000};
constexpr std::size_t kLingerBytes = 256 * 1024;
// Beyond max_connections a few connections still get a 503; the rest are closed at once.
constexpr std::size_t kMaxRejecting = 8;

constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kCsp =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "
    "frame-ancestors 'none'";

class Session;

}  // namespace

struct Dashboard::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::any_io_executor ex, DashboardSource src, DashboardLimits lim)
        : executor(ex), acceptor(ex), retry(ex), source(std::move(src)), limits(lim) {}

    void accept();
    void stop();

    asio::any_io_executor executor;
    tcp::acceptor acceptor;
    asio::steady_timer retry;  // backs off when accept fails (EMFILE) instead of spinning
    DashboardSource source;
    DashboardLimits limits;
    std::uint16_t port = 0;
    bool stopped = false;
    std::atomic<std::size_t> open{0};  // serving sessions
    std::size_t rejecting = 0;         // sessions only sending 503
    std::uint64_t next_id = 0;
    std::map<std::uint64_t, std::weak_ptr<Session>> sessions;
};

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response text_response(unsigned version, http::status status, std::string body, const char* type) {
    Response res{status, version};
    res.set(http::field::server, "paybridged");
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

Response error_response(unsigned version, http::status status) {
    auto reason = http::obsolete_reason(status);
    return text_response(version, status, std::string(reason) + "\n", "text/plain; charset=utf-8");
}

/// The routes; everything a request may cause happens here (no I/O).
Response route(const Request& req, const DashboardSource& source) {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    const unsigned v = req.version();
    const bool known = path == "/" || path == "/metrics" || path == "/api/status" || path == "/healthz";
    if (!known) return error_response(v, http::status::not_found);
    if (req.method() != http::verb::get) {
        Response res = error_response(v, http::status::method_not_allowed);
        res.set(http::field::allow, "GET");
        return res;
    }
    if (path == "/healthz") return text_response(v, http::status::ok, "ok\n", "text/plain; charset=utf-8");
    // The source belongs to the wiring: whatever it throws ends here as a 500, not in the loop.
    try {
        if (path == "/metrics") {
            if (!source.metrics_text) return error_response(v, http::status::service_unavailable);
            return text_response(v, http::status::ok, source.metrics_text(), kMetricsType);
        }
        if (!source.snapshot) return error_response(v, http::status::service_unavailable);
        boost::json::value snapshot = source.snapshot();
        mask_card_numbers(snapshot);
        if (path == "/api/status")
            return text_response(v, http::status::ok, boost::json::serialize(snapshot), "application/json");
        Response res = text_response(v, http::status::ok, render_dashboard_html(snapshot), "text/html; charset=utf-8");
        res.set("Content-Security-Policy", kCsp);
        res.set("X-Frame-Options", "DENY");
        return res;
    } catch (const std::exception&) {
        return error_response(v, http::status::internal_server_error);
    }
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(std::shared_ptr<Dashboard::Impl> owner, std::uint64_t id, tcp::socket socket, bool reject)
        : owner_(std::move(owner)), id_(id), stream_(std::move(socket)), reject_(reject) {}

    ~Session() {
        if (reject_)
            --owner_->rejecting;
        else
            --owner_->open;
        owner_->sessions.erase(id_);
    }

    void run() {
        if (reject_) {
            res_ = error_response(11, http::status::service_unavailable);
            res_.set(http::field::retry_after, "5");
            return write(true);
        }
        read();
    }

    void close() {
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(owner_->limits.header_limit));
        parser_->body_limit(owner_->limits.body_limit);
        stream_.expires_after(owner_->limits.read_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(error_code ec) {
        if (!ec) {
            const Request& req = parser_->get();
            res_ = route(req, owner_->source);
            const bool keep = req.keep_alive() && !owner_->stopped;
            res_.keep_alive(keep);
            return write(!keep);
        }
        // A deadline closes the stream (beast::basic_stream), a client hanging up ends it:
        // nothing to answer then.
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            !parser_->got_some())
            return close();
        if (ec == http::error::header_limit)
            res_ = error_response(11, http::status::request_header_fields_too_large);
        else if (ec == http::error::body_limit)
            res_ = error_response(11, http::status::payload_too_large);
        else if (ec.category() == http::make_error_code(http::error::bad_target).category())
            res_ = error_response(11, http::status::bad_request);  // any other parse error
        else
            return close();  // a socket error: nobody to answer
        write(true);
    }

    void write(bool close_after) {
        if (close_after) res_.keep_alive(false);
        stream_.expires_after(owner_->limits.write_timeout);
        http::async_write(stream_, res_, [self = shared_from_this(), close_after](error_code ec, std::size_t) {
            if (ec) return self->close();
            if (close_after) return self->linger();
            self->read();
        });
    }

    void linger() {
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(kLinger);
        drain();
    }

    void drain() {
        stream_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](error_code ec, std::size_t n) {
            self->drained_ += n;
            if (ec || self->drained_ > kLingerBytes) return self->close();
            self->drain();
        });
    }

    std::shared_ptr<Dashboard::Impl> owner_;
    std::uint64_t id_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Response res_;
    bool reject_;
    std::array<char, 4096> scratch_{};
    std::size_t drained_ = 0;
};

}  // namespace

void Dashboard::Impl::accept() {
    acceptor.async_accept(executor, [self = shared_from_this()](error_code ec, tcp::socket socket) {
        if (self->stopped || ec == asio::error::operation_aborted) return;
        if (ec) {
            // Out of descriptors and the like: try again shortly rather than spin.
            self->retry.expires_after(std::chrono::milliseconds(100));
            self->retry.async_wait([self](error_code wec) {
                if (!wec && !self->stopped) self->accept();
            });
            return;
        }
        const bool full = self->open.load() >= self->limits.max_connections;
        if (full && self->rejecting >= kMaxRejecting) {
            error_code ignored;
            socket.close(ignored);
        } else {
            if (full)
                ++self->rejecting;
            else
                ++self->open;
            const std::uint64_t id = ++self->next_id;
            auto session = std::make_shared<Session>(self, id, std::move(socket), full);
            self->sessions.emplace(id, session);
            session->run();
        }
        self->accept();
    });
}

void Dashboard::Impl::stop() {
    if (stopped) return;
    stopped = true;
    error_code ignored;
    acceptor.close(ignored);
    retry.cancel();
    auto live = sessions;  // closing completes handlers later, never inside this loop
    for (auto& [id, weak] : live)
        if (auto s = weak.lock()) s->close();
}

Expected<std::unique_ptr<Dashboard>, std::string> Dashboard::start(asio::any_io_executor executor,
                                                                   const HttpConfig& http_config,
                                                                   DashboardSource source, DashboardLimits limits) {
    const std::string where = http_config.listen_host + ":" + std::to_string(http_config.listen_port);
    error_code ec;
    auto address = asio::ip::make_address(http_config.listen_host == "localhost" ? "127.0.0.1" : http_config.listen_host, ec);
    if (ec) return pb::unexpected("dashboard: http.listen_host '" + http_config.listen_host + "' is not an IP address");
    if (limits.max_connections == 0) limits.max_connections = 1;

    auto impl = std::make_shared<Impl>(executor, std::move(source), limits);
    const tcp::endpoint endpoint(address, http_config.listen_port);
    auto fail = [&](const char* what) -> Expected<std::unique_ptr<Dashboard>, std::string> {
        return pb::unexpected("dashboard: cannot " + std::string(what) + " " + where + ": " + ec.message());
    };
    if (impl->acceptor.open(endpoint.protocol(), ec)) return fail("open");
    if (impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec)) return fail("configure");
    if (impl->acceptor.bind(endpoint, ec)) return fail("bind");
    if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen on");
    impl->port = impl->acceptor.local_endpoint(ec).port();
    if (ec) return fail("read the port of");
    impl->accept();
    return std::unique_ptr<Dashboard>(new Dashboard(std::move(impl)));
}

Dashboard::Dashboard(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dashboard::~Dashboard() { stop(); }
void Dashboard::stop() { impl_->stop(); }
std::uint16_t Dashboard::port() const { return impl_->port; }
std::size_t Dashboard::connections() const { return impl_->open.load(); }

}  // namespace pb::daemon
