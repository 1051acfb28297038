// The dashboard's HTTP server on a real loopback socket: the daemon side runs on an
// io_context in a thread, the test is a blocking client with receive timeouts (no sleeps).
#include "daemon/dashboard.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include "daemon/metrics.hpp"

namespace pb::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Response = http::response<http::string_body>;

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

json::value fake_snapshot() {
    return json::parse(R"({
        "business_date": "2026-11-23", "generated_at": "2026-11-23T10:00:00Z",
        "terminals": [{"terminal": "kasse1", "register_id": "K1", "state": "ready", "online": true},
                      {"terminal": "werkstatt", "register_id": "W1", "state": "offline", "online": false}],
        "takings": [{"issuer": "visa", "name": "Visa", "count": 1, "amount": "100.00", "currency": "SEK"}],
        "takings_totals": [{"currency": "SEK", "count": 1, "amount": "100.00"}],
        "interim": [{"payment_id": 4, "order_id": "ORD-4711", "amount": "30.00", "currency": "SEK",
                     "state": "unknown", "reason": "link lost, terminal said 4111111111111111", "age_s": 95}]})");
}

/// A connected blocking client socket that gives up reading after 5 s (a hung server fails
/// the test instead of hanging it).
struct Client {
    asio::io_context io;
    tcp::socket socket{io};
    beast::flat_buffer buffer;

    explicit Client(std::uint16_t port) {
        socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        timeval tv{5, 0};
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }

    void send_raw(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }

    std::optional<Response> read_response() {
        Response res;
        beast::error_code ec;
        http::read(socket, buffer, res, ec);
        if (ec) return std::nullopt;
        return res;
    }

    std::optional<Response> request(http::verb method, const std::string& target, bool keep_alive = true) {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.keep_alive(keep_alive);
        http::write(socket, req);
        return read_response();
    }

    /// True when the server closed the connection (EOF or reset) before the receive timeout.
    bool closed_by_server() {
        char c;
        beast::error_code ec;
        socket.read_some(asio::buffer(&c, 1), ec);
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    }
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::yield();
    }
    return true;
}

class DashboardServer : public ::testing::Test {
protected:
    void start(DashboardLimits limits = {}) {
        metrics_.counter("paybridge_payments_total", "Payments by outcome", {{"outcome", "approved"}}).inc(3);
        DashboardSource source;
        source.metrics_text = [this] { return metrics_.expose(); };
        source.snapshot = [this]() -> json::value {
            if (throw_.load()) throw std::runtime_error("ledger gone");
            return fake_snapshot();
        };
        HttpConfig http;
        http.listen_port = 0;
        auto d = Dashboard::start(io_.get_executor(), http, std::move(source), limits);
        ASSERT_TRUE(d) << d.error();
        dashboard_ = std::move(*d);
        port_ = dashboard_->port();
        ASSERT_NE(port_, 0);
        loop_ = std::thread([this] { io_.run(); });
    }

    /// Runs `f` on the loop and waits for it.
    void on_loop(std::function<void()> f) {
        std::promise<void> done;
        asio::post(io_, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }

    void TearDown() override {
        if (loop_.joinable()) {
            on_loop([this] { dashboard_.reset(); });
            guard_.reset();
            loop_.join();
        }
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
    Metrics metrics_;
    std::atomic<bool> throw_{false};
    std::unique_ptr<Dashboard> dashboard_;
    std::uint16_t port_ = 0;
    std::thread loop_;
};

TEST_F(DashboardServer, HealthzIsOk) {
    start();
    Client c(port_);
    auto res = c.request(http::verb::get, "/healthz");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::ok);
    EXPECT_EQ(res->body(), "ok\n");
    auto with_query = c.request(http::verb::get, "/healthz?probe=1");
    ASSERT_TRUE(with_query);
    EXPECT_EQ(with_query->result(), http::status::ok);
}

TEST_F(DashboardServer, MetricsServesTheRegistryAsPrometheusText) {
    start();
    Client c(port_);
    auto res = c.request(http::verb::get, "/metrics");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::ok);
    EXPECT_EQ(res->at(http::field::content_type), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_TRUE(contains(res->body(), "# TYPE paybridge_payments_total counter\n"));
    EXPECT_TRUE(contains(res->body(), "paybridge_payments_total{outcome=\"approved\"} 3\n"));
}

TEST_F(DashboardServer, ApiStatusIsTheSnapshotWithCardNumbersMasked) {
    start();
    Client c(port_);
    auto res = c.request(http::verb::get, "/api/status");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::ok);
    EXPECT_EQ(res->at(http::field::content_type), "application/json");
    EXPECT_EQ(res->at(http::field::cache_control), "no-store");
    json::value v = json::parse(res->body());
    EXPECT_EQ(v.at("terminals").at(0).at("terminal").as_string(), "kasse1");
    EXPECT_EQ(v.at("interim").at(0).at("order_id").as_string(), "ORD-4711");
    EXPECT_EQ(v.at("interim").at(0).at("reason").as_string(), "link lost, terminal said 411111******1111");
    EXPECT_FALSE(contains(res->body(), "4111111111111111"));
}

TEST_F(DashboardServer, PageIsServerRenderedHtmlWithTerminalsAndInterim) {
    start();
    Client c(port_);
    auto res = c.request(http::verb::get, "/");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::ok);
    EXPECT_EQ(res->at(http::field::content_type), "text/html; charset=utf-8");
    EXPECT_TRUE(contains(std::string(res->at("Content-Security-Policy")), "default-src 'none'"));
    const std::string& page = res->body();
    EXPECT_TRUE(contains(page, "<td>kasse1</td>"));
    EXPECT_TRUE(contains(page, "<td>werkstatt</td>"));
    EXPECT_TRUE(contains(page, "<td>ORD-4711</td>"));
    EXPECT_TRUE(contains(page, "<td class=\"num\">100.00</td>"));
    EXPECT_TRUE(contains(page, "411111******1111"));
    EXPECT_FALSE(contains(page, "4111111111111111"));
}

TEST_F(DashboardServer, UnknownPathIs404AndOtherMethodsAre405) {
    start();
    Client c(port_);
    auto missing = c.request(http::verb::get, "/admin");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->result(), http::status::not_found);
    auto post = c.request(http::verb::post, "/api/status");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->result(), http::status::method_not_allowed);
    EXPECT_EQ(post->at(http::field::allow), "GET");
    auto del = c.request(http::verb::delete_, "/metrics");
    ASSERT_TRUE(del);
    EXPECT_EQ(del->result(), http::status::method_not_allowed);
    // The connection is still good after the errors.
    auto ok = c.request(http::verb::get, "/healthz");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->result(), http::status::ok);
}

TEST_F(DashboardServer, OversizedHeaderIs431AndTheConnectionCloses) {
    DashboardLimits limits;
    limits.header_limit = 4096;
    start(limits);
    Client c(port_);
    c.send_raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n");
    auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::request_header_fields_too_large);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_TRUE(c.closed_by_server());
}

TEST_F(DashboardServer, OversizedBodyIs413) {
    DashboardLimits limits;
    limits.body_limit = 1024;
    start(limits);
    Client c(port_);
    c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 8000\r\n\r\n" + std::string(8000, 'b'));
    auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::payload_too_large);
}

TEST_F(DashboardServer, MalformedRequestIs400) {
    start();
    Client c(port_);
    c.send_raw("GET / HTTP/1.1\r\nHost x\r\n\r\n");  // header line without a colon
    auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::bad_request);
}

TEST_F(DashboardServer, ARequestThatDoesNotArriveInTimeIsClosedAtTheReadDeadline) {
    DashboardLimits limits;
    limits.read_timeout = std::chrono::milliseconds(200);
    start(limits);
    Client c(port_);
    const auto t0 = std::chrono::steady_clock::now();
    c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n");  // never finished
    EXPECT_TRUE(c.closed_by_server());
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(150));
    EXPECT_LT(took, std::chrono::seconds(4));
    EXPECT_TRUE(eventually([&] { return dashboard_->connections() == 0; }));
}

TEST_F(DashboardServer, BeyondMaxConnectionsTheNextGets503UntilOneCloses) {
    DashboardLimits limits;
    limits.max_connections = 2;
    start(limits);
    auto a = std::make_unique<Client>(port_);
    Client b(port_);
    ASSERT_TRUE(eventually([&] { return dashboard_->connections() == 2; }));
    {
        Client over(port_);
        auto res = over.request(http::verb::get, "/healthz");
        ASSERT_TRUE(res);
        EXPECT_EQ(res->result(), http::status::service_unavailable);
        EXPECT_TRUE(over.closed_by_server());
    }
    a.reset();  // the client closes: its session ends
    ASSERT_TRUE(eventually([&] { return dashboard_->connections() == 1; }));
    Client next(port_);
    auto res = next.request(http::verb::get, "/healthz");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::ok);
}

TEST_F(DashboardServer, ASourceThatThrowsGives500AndServingGoesOn) {
    start();
    throw_ = true;
    Client c(port_);
    auto res = c.request(http::verb::get, "/api/status");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::internal_server_error);
    throw_ = false;
    auto again = c.request(http::verb::get, "/api/status");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->result(), http::status::ok);
}

TEST_F(DashboardServer, StopClosesOpenConnectionsAndStopsAccepting) {
    start();
    Client idle(port_);
    ASSERT_TRUE(eventually([&] { return dashboard_->connections() == 1; }));
    on_loop([this] { dashboard_->stop(); });
    EXPECT_TRUE(idle.closed_by_server());
    asio::io_context io;
    tcp::socket s(io);
    beast::error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    EXPECT_EQ(ec, asio::error::connection_refused);
}

TEST_F(DashboardServer, ABusyPortOrABadAddressIsAnErrorNamingIt) {
    start();
    HttpConfig same;
    same.listen_port = port_;
    auto clash = Dashboard::start(io_.get_executor(), same, DashboardSource{});
    ASSERT_FALSE(clash);
    EXPECT_TRUE(contains(clash.error(), "127.0.0.1:" + std::to_string(port_))) << clash.error();
    HttpConfig bad;
    bad.listen_host = "dashboard.example";
    auto wrong = Dashboard::start(io_.get_executor(), bad, DashboardSource{});
    ASSERT_FALSE(wrong);
    EXPECT_TRUE(contains(wrong.error(), "dashboard.example")) << wrong.error();
}

}  // namespace
}  // namespace pb::daemon
