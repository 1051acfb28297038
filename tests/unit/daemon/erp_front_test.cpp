#include "daemon/erp_front.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <chrono>
#include <cstring>
#include <functional>

namespace pb::daemon {
namespace {

using namespace std::chrono_literals;

/// Runs the loop until `done` or a 5 s deadline (no sleeping: the loop does the waiting).
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        io.restart();
        io.run_for(2ms);
    }
    return true;
}

ErpFrontOptions loopback() {
    ErpFrontOptions o;
    o.router_endpoint = "tcp://127.0.0.1:*";
    o.pub_endpoint = "tcp://127.0.0.1:*";
    o.max_message_bytes = 1024;
    return o;
}

struct KeyPair {
    std::string pub, secret;
};
KeyPair keypair() {
    char pub[41], sec[41];
    EXPECT_EQ(zmq_curve_keypair(pub, sec), 0);
    return {pub, sec};
}

std::optional<std::string> try_recv(zmq::socket_t& s) {
    zmq::message_t m;
    if (!s.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
    return m.to_string();
}

TEST(ErpFront, DealerRequestIsAnsweredThroughTheLoop) {
    boost::asio::io_context io;
    auto front = ErpFront::open(io, loopback());
    ASSERT_TRUE(front.has_value()) << (front ? "" : front.error());
    auto& f = **front;
    std::vector<std::string> seen;
    f.on_request([&](const ClientId& client, std::string json) {
        seen.push_back(json);
        f.reply(client, "{\"echo\":" + json + "}");
    });

    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(f.router_endpoint());
    std::optional<std::string> answer;
    for (int i = 0; i < 3; ++i) {  // several in a row: the drain must not lose an edge
        dealer.send(zmq::buffer("{\"n\":" + std::to_string(i) + "}"));
        answer.reset();
        ASSERT_TRUE(run_until(io, [&] { return (answer = try_recv(dealer)).has_value(); }));
        EXPECT_EQ(*answer, "{\"echo\":{\"n\":" + std::to_string(i) + "}}");
    }
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_EQ(f.stats().requests, 3u);
    EXPECT_EQ(f.stats().replies, 3u);
}

TEST(ErpFront, BurstOfRequestsIsDrainedCompletely) {
    boost::asio::io_context io;
    auto front = ErpFront::open(io, loopback());
    ASSERT_TRUE(front.has_value());
    auto& f = **front;
    f.on_request([&](const ClientId& client, std::string json) { f.reply(client, json); });
    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(f.router_endpoint());
    for (int i = 0; i < 200; ++i) dealer.send(zmq::buffer(std::to_string(i)));
    int got = 0;
    ASSERT_TRUE(run_until(io, [&] {
        while (auto m = try_recv(dealer)) {
            EXPECT_EQ(*m, std::to_string(got));
            ++got;
        }
        return got == 200;
    }));
}

TEST(ErpFront, ReqClientGetsItsDelimiterBack) {
    boost::asio::io_context io;
    auto front = ErpFront::open(io, loopback());
    ASSERT_TRUE(front.has_value());
    auto& f = **front;
    f.on_request([&](const ClientId& client, std::string) { f.reply(client, "{\"ok\":true}"); });
    zmq::context_t ctx;
    zmq::socket_t req(ctx, zmq::socket_type::req);
    req.set(zmq::sockopt::linger, 0);
    req.connect(f.router_endpoint());
    req.send(zmq::str_buffer("{}"));
    std::optional<std::string> answer;
    ASSERT_TRUE(run_until(io, [&] { return (answer = try_recv(req)).has_value(); }));
    EXPECT_EQ(*answer, "{\"ok\":true}");
}

TEST(ErpFront, OversizeRequestGoesToTheOversizeHandler) {
    boost::asio::io_context io;
    auto front = ErpFront::open(io, loopback());
    ASSERT_TRUE(front.has_value());
    auto& f = **front;
    bool request_called = false;
    std::size_t oversize = 0;
    f.on_request([&](const ClientId&, std::string) { request_called = true; });
    f.on_oversize([&](const ClientId& client, std::size_t size) {
        oversize = size;
        f.reply(client, "{\"error\":\"too large\"}");
    });
    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(f.router_endpoint());
    dealer.send(zmq::buffer(std::string(1025, 'x')));
    std::optional<std::string> answer;
    ASSERT_TRUE(run_until(io, [&] { return (answer = try_recv(dealer)).has_value(); }));
    EXPECT_EQ(*answer, "{\"error\":\"too large\"}");
    EXPECT_EQ(oversize, 1025u);
    EXPECT_FALSE(request_called);
}

TEST(ErpFront, ReplyToAGoneClientFails) {
    boost::asio::io_context io;
    auto front = ErpFront::open(io, loopback());
    ASSERT_TRUE(front.has_value());
    EXPECT_FALSE((*front)->reply(std::string("D\x00\x01\x02\x03\x04", 6), "{}"));
    EXPECT_EQ((*front)->stats().send_failures, 1u);
}

TEST(ErpFront, SubscriberReceivesPublishedEvent) {
    boost::asio::io_context io;
    auto front = ErpFront::open(io, loopback());
    ASSERT_TRUE(front.has_value());
    auto& f = **front;
    zmq::context_t ctx;
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::subscribe, "payment.");
    sub.connect(f.pub_endpoint());
    std::vector<zmq::message_t> parts;
    // PUB drops until the subscription arrives (slow joiner): publish until one gets through.
    ASSERT_TRUE(run_until(io, [&] {
        f.publish("terminal.online", "{\"ignored\":true}");
        f.publish("payment.outcome", "{\"result\":\"approved\"}");
        return zmq::recv_multipart(sub, std::back_inserter(parts), zmq::recv_flags::dontwait).has_value();
    }));
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].to_string(), "payment.outcome");
    EXPECT_EQ(parts[1].to_string(), "{\"result\":\"approved\"}");
}

TEST(ErpFront, BindFailureIsAnError) {
    boost::asio::io_context io;
    auto first = ErpFront::open(io, loopback());
    ASSERT_TRUE(first.has_value());
    ErpFrontOptions o = loopback();
    o.router_endpoint = (*first)->router_endpoint();  // already bound
    auto second = ErpFront::open(io, o);
    ASSERT_FALSE(second.has_value());
    EXPECT_NE(second.error().find("cannot bind ROUTER"), std::string::npos) << second.error();
}

class ErpFrontCurve : public ::testing::Test {
protected:
    void SetUp() override {
        server = keypair();
        known = keypair();
        unknown = keypair();
        ErpFrontOptions o = loopback();
        o.curve = ErpFrontOptions::Curve{server.secret, {known.pub}};
        auto f = ErpFront::open(io, o);
        ASSERT_TRUE(f.has_value()) << (f ? "" : f.error());
        front = std::move(*f);
        front->on_request([this](const ClientId& client, std::string json) {
            requests.push_back(json);
            front->reply(client, "pong");
        });
    }

    zmq::socket_t client(zmq::socket_type type, const KeyPair& keys) {
        zmq::socket_t s(ctx, type);
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::curve_serverkey, server.pub);
        s.set(zmq::sockopt::curve_publickey, keys.pub);
        s.set(zmq::sockopt::curve_secretkey, keys.secret);
        return s;
    }

    boost::asio::io_context io;
    std::unique_ptr<ErpFront> front;
    zmq::context_t ctx;
    KeyPair server, known, unknown;
    std::vector<std::string> requests;
};

TEST_F(ErpFrontCurve, KnownClientKeyIsAccepted) {
    auto dealer = client(zmq::socket_type::dealer, known);
    dealer.connect(front->router_endpoint());
    dealer.send(zmq::str_buffer("ping"));
    std::optional<std::string> answer;
    ASSERT_TRUE(run_until(io, [&] { return (answer = try_recv(dealer)).has_value(); }));
    EXPECT_EQ(*answer, "pong");
    EXPECT_EQ(front->stats().auth_allowed, 1u);
    EXPECT_EQ(front->stats().auth_denied, 0u);
}

TEST_F(ErpFrontCurve, UnknownClientKeyIsRefused) {
    auto dealer = client(zmq::socket_type::dealer, unknown);
    // The client side reports the refusal itself: ZMQ_EVENT_HANDSHAKE_FAILED_AUTH (status 400).
    ASSERT_EQ(zmq_socket_monitor(dealer.handle(), "inproc://mon", ZMQ_EVENT_HANDSHAKE_FAILED_AUTH), 0);
    zmq::socket_t mon(ctx, zmq::socket_type::pair);
    mon.set(zmq::sockopt::linger, 0);
    mon.connect("inproc://mon");
    dealer.connect(front->router_endpoint());
    dealer.send(zmq::str_buffer("ping"));
    std::vector<zmq::message_t> event;
    ASSERT_TRUE(run_until(io, [&] {
        return zmq::recv_multipart(mon, std::back_inserter(event), zmq::recv_flags::dontwait).has_value();
    }));
    ASSERT_GE(event.size(), 1u);
    std::uint16_t id = 0;
    std::uint32_t status = 0;
    std::memcpy(&id, event[0].data(), 2);
    std::memcpy(&status, static_cast<const char*>(event[0].data()) + 2, 4);
    EXPECT_EQ(id, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    EXPECT_EQ(status, 400u);
    EXPECT_GE(front->stats().auth_denied, 1u);
    EXPECT_TRUE(requests.empty());
    EXPECT_FALSE(try_recv(dealer).has_value());
}

TEST_F(ErpFrontCurve, UnknownSubscriberGetsNoEvents) {
    auto sub_known = client(zmq::socket_type::sub, known);
    auto sub_unknown = client(zmq::socket_type::sub, unknown);
    for (auto* s : {&sub_known, &sub_unknown}) {
        s->set(zmq::sockopt::subscribe, "");
        s->connect(front->pub_endpoint());
    }
    ASSERT_TRUE(run_until(io, [&] {
        front->publish("payment.outcome", "{}");
        return front->stats().auth_denied >= 1 && try_recv(sub_known).has_value();
    }));
    EXPECT_FALSE(try_recv(sub_unknown).has_value());
}

}  // namespace
}  // namespace pb::daemon
