#include "daemon/erp_front.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <iterator>

namespace pb::daemon {

namespace asio = boost::asio;

namespace {
// libzmq's ZAP endpoint (RFC 27/ZAP): the handler must be bound here on the same context.
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "paybridge-erp";
// ClientId = marker + ROUTER identity. The marker remembers whether the peer is a REQ socket
// (it sends an empty delimiter frame before the body and expects one back).
constexpr char kDealer = 'D';
constexpr char kReq = 'R';
}  // namespace

struct ErpFront::Impl : std::enable_shared_from_this<ErpFront::Impl> {
    // A zmq socket's fd signals edge-triggered "events may have changed": after it becomes
    // readable, drain while ZMQ_EVENTS has POLLIN, and re-check after every send.
    struct Watch {
        zmq::socket_t* socket = nullptr;
        std::optional<asio::posix::stream_descriptor> fd;
        void (Impl::*drain)() = nullptr;
    };

    asio::io_context& io;
    ErpFrontOptions options;
    zmq::context_t ctx;
    zmq::socket_t router;
    zmq::socket_t pub;
    zmq::socket_t zap;  // only with CURVE
    Watch router_watch, zap_watch;
    RequestHandler request_handler;
    OversizeHandler oversize_handler;
    Stats stats;
    bool closed = false;
    bool draining = false;
    bool drain_posted = false;

    Impl(asio::io_context& io_, ErpFrontOptions options_) : io(io_), options(std::move(options_)) {}

    ~Impl() { close(); }

    void watch(Watch& w, zmq::socket_t& s, void (Impl::*drain)()) {
        w.socket = &s;
        w.drain = drain;
        w.fd.emplace(io, s.get(zmq::sockopt::fd));
        arm(w);
        // Messages may already be queued: the edge happened before we started watching.
        post_drain(drain);
    }

    void arm(Watch& w) {
        std::weak_ptr<Impl> weak = weak_from_this();
        w.fd->async_wait(asio::posix::stream_descriptor::wait_read, [weak, &w](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->closed) return;
            (self.get()->*w.drain)();
            if (!self->closed) self->arm(w);
        });
    }

    void post_drain(void (Impl::*drain)()) {
        std::weak_ptr<Impl> weak = weak_from_this();
        asio::post(io, [weak, drain] {
            if (auto self = weak.lock(); self && !self->closed) (self.get()->*drain)();
        });
    }

    void after_router_send() {
        // The send may have consumed the fd's edge; look at ZMQ_EVENTS again from the loop.
        if (!draining && !drain_posted) {
            drain_posted = true;
            post_drain(&Impl::drain_router);
        }
    }

    void drain_router() {
        drain_posted = false;
        if (draining) return;  // a handler replied from inside the loop below: it re-checks
        draining = true;
        auto self = shared_from_this();  // a handler may drop the front
        while (!closed && (router.get(zmq::sockopt::events) & ZMQ_POLLIN)) {
            std::vector<zmq::message_t> parts;
            auto n = zmq::recv_multipart(router, std::back_inserter(parts), zmq::recv_flags::dontwait);
            if (!n) break;
            handle_request(parts);
        }
        draining = false;
    }

    void handle_request(std::vector<zmq::message_t>& parts) {
        // DEALER: [identity, body]; REQ: [identity, "", body].
        ClientId client;
        const zmq::message_t* body = nullptr;
        if (parts.size() == 2) {
            client = kDealer + parts[0].to_string();
            body = &parts[1];
        } else if (parts.size() == 3 && parts[1].size() == 0) {
            client = kReq + parts[0].to_string();
            body = &parts[2];
        } else {
            ++stats.malformed;
            return;
        }
        if (body->size() > options.max_message_bytes) {
            ++stats.oversize;
            if (oversize_handler) oversize_handler(client, body->size());
            return;
        }
        ++stats.requests;
        if (request_handler) request_handler(client, body->to_string());
    }

    void drain_zap() {
        while (!closed && (zap.get(zmq::sockopt::events) & ZMQ_POLLIN)) {
            std::vector<zmq::message_t> req;
            if (!zmq::recv_multipart(zap, std::back_inserter(req), zmq::recv_flags::dontwait)) break;
            answer_zap(req);
        }
    }

    // RFC 27/ZAP: request [version, request_id, domain, address, identity, mechanism, creds...],
    // reply [version, request_id, status_code, status_text, user_id, metadata].
    void answer_zap(const std::vector<zmq::message_t>& req) {
        std::string request_id = req.size() > 1 ? req[1].to_string() : "";
        bool allowed = false;
        std::string user;
        if (req.size() >= 7 && req[0].to_string_view() == "1.0" && req[5].to_string_view() == "CURVE" &&
            req[6].size() == 32 && options.curve) {
            char z85[41] = {};
            zmq_z85_encode(z85, static_cast<const std::uint8_t*>(req[6].data()), 32);
            const auto& allow = options.curve->allowed_clients;
            allowed = std::find(allow.begin(), allow.end(), std::string_view(z85, 40)) != allow.end();
            user = z85;
        }
        allowed ? ++stats.auth_allowed : ++stats.auth_denied;
        if (!allowed) user.clear();  // the buffers below point into these strings: keep them alive
        std::array<zmq::const_buffer, 6> reply = {
            zmq::str_buffer("1.0"),
            zmq::buffer(request_id),
            allowed ? zmq::str_buffer("200") : zmq::str_buffer("400"),
            allowed ? zmq::str_buffer("OK") : zmq::str_buffer("client key not allowed"),
            zmq::buffer(user),
            zmq::str_buffer(""),
        };
        zmq::send_multipart(zap, reply, zmq::send_flags::dontwait);
    }

    void close() {
        if (closed) return;
        closed = true;
        for (Watch* w : {&router_watch, &zap_watch}) {
            if (w->fd) {
                // The fd belongs to libzmq: release it, never close it.
                w->fd->cancel();
                w->fd->release();
                w->fd.reset();
            }
        }
        for (zmq::socket_t* s : {&router, &pub, &zap})
            if (s->handle() != nullptr) s->close();
    }
};

ErpFront::ErpFront(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
ErpFront::~ErpFront() {
    if (impl_) impl_->close();
}

Expected<std::unique_ptr<ErpFront>, std::string> ErpFront::open(asio::io_context& io, const ErpFrontOptions& options) {
    auto impl = std::make_shared<Impl>(io, options);
    std::string step;
    try {
        auto& i = *impl;
        if (options.curve) {
            if (!zmq_has("curve")) return unexpected(std::string("CURVE requested but libzmq lacks CURVE support"));
            step = "ZAP handler " + std::string(kZapEndpoint);
            i.zap = zmq::socket_t(i.ctx, zmq::socket_type::rep);
            i.zap.set(zmq::sockopt::linger, 0);
            i.zap.bind(kZapEndpoint);
        }
        auto secure = [&](zmq::socket_t& s) {
            if (!options.curve) return;
            s.set(zmq::sockopt::curve_server, 1);
            s.set(zmq::sockopt::curve_secretkey, options.curve->server_secret_key);
            s.set(zmq::sockopt::zap_domain, kZapDomain);
        };
        step = "ROUTER " + options.router_endpoint;
        i.router = zmq::socket_t(i.ctx, zmq::socket_type::router);
        i.router.set(zmq::sockopt::router_mandatory, 1);
        i.router.set(zmq::sockopt::linger, 1000);
        // Hard cap in libzmq (the peer is disconnected above it); between max_message_bytes
        // and the cap the request is read and answered with an error (oversize handler).
        i.router.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(options.max_message_bytes * 4 + 4096));
        secure(i.router);
        i.router.bind(options.router_endpoint);
        step = "PUB " + options.pub_endpoint;
        i.pub = zmq::socket_t(i.ctx, zmq::socket_type::pub);
        i.pub.set(zmq::sockopt::linger, 1000);
        secure(i.pub);
        i.pub.bind(options.pub_endpoint);
        i.watch(i.router_watch, i.router, &Impl::drain_router);
        if (options.curve) i.watch(i.zap_watch, i.zap, &Impl::drain_zap);
    } catch (const zmq::error_t& e) {
        impl->close();
        return unexpected("cannot bind " + step + ": " + e.what());
    }
    return std::unique_ptr<ErpFront>(new ErpFront(std::move(impl)));
}

void ErpFront::on_request(RequestHandler handler) { impl_->request_handler = std::move(handler); }
void ErpFront::on_oversize(OversizeHandler handler) { impl_->oversize_handler = std::move(handler); }

bool ErpFront::reply(const ClientId& client, std::string_view json) {
    auto& i = *impl_;
    if (i.closed || client.size() < 2) return false;
    std::string_view identity = std::string_view(client).substr(1);
    bool ok = false;
    try {
        // Buffers are copied into frames here, so the identity is never moved out from under us.
        if (client[0] == kReq) {
            std::array<zmq::const_buffer, 3> frames = {zmq::buffer(identity), zmq::str_buffer(""), zmq::buffer(json)};
            ok = zmq::send_multipart(i.router, frames, zmq::send_flags::dontwait).has_value();
        } else {
            std::array<zmq::const_buffer, 2> frames = {zmq::buffer(identity), zmq::buffer(json)};
            ok = zmq::send_multipart(i.router, frames, zmq::send_flags::dontwait).has_value();
        }
    } catch (const zmq::error_t&) {
        ok = false;  // EHOSTUNREACH: the client is gone (ROUTER_MANDATORY)
    }
    ok ? ++i.stats.replies : ++i.stats.send_failures;
    i.after_router_send();
    return ok;
}

bool ErpFront::publish(std::string_view topic, std::string_view json) {
    auto& i = *impl_;
    if (i.closed) return false;
    std::array<zmq::const_buffer, 2> frames = {zmq::buffer(topic), zmq::buffer(json)};
    bool ok = false;
    try {
        ok = zmq::send_multipart(i.pub, frames, zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
    }
    ok ? ++i.stats.published : ++i.stats.send_failures;
    return ok;
}

void ErpFront::close() { impl_->close(); }

std::string ErpFront::router_endpoint() const {
    return impl_->closed ? "" : impl_->router.get(zmq::sockopt::last_endpoint);
}
std::string ErpFront::pub_endpoint() const { return impl_->closed ? "" : impl_->pub.get(zmq::sockopt::last_endpoint); }
ErpFront::Stats ErpFront::stats() const { return impl_->stats; }

}  // namespace pb::daemon
