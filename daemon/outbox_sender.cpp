#include "daemon/outbox_sender.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>

#include "daemon/ledger_on_loop.hpp"
#include "daemon/log.hpp"
#include "protocol/upstream/wire.hpp"

namespace pb::daemon {

namespace asio = boost::asio;

namespace {
constexpr std::size_t kBatch = 32;
}

struct OutboxSender::Impl : std::enable_shared_from_this<OutboxSender::Impl> {
    OutboxSenderDeps deps;
    std::unique_ptr<asio::steady_timer> timer;
    bool running = false;
    bool busy = false;     // a round is under way
    bool poked = false;    // a poke arrived during the round: go again at once
    std::deque<ledger::OutboxMessage> queue;
    Counters counters;

    template <class T>
    void write(ledger::Ledger::Work<T> work, std::function<void(ledger::Result<T>)> then) {
        write_on_loop<T>(*deps.ledger, deps.executor, weak_from_this(), std::move(work),
                         [this, then = std::move(then)](ledger::Result<T> r) {
                             if (running) then(std::move(r));
                         });
    }

    void round() {
        if (!running) return;
        if (busy) {
            poked = true;
            return;
        }
        busy = true;
        poked = false;
        timer->cancel();
        write<std::vector<ledger::OutboxMessage>>(
            [](ledger::Tx& tx) { return ledger::outbox_due(tx, tx.now_utc_ms(), kBatch); },
            [this](ledger::Result<std::vector<ledger::OutboxMessage>> due) {
                if (!due) {
                    log::error("PB_OUTBOX_READ_FAILED", "outbox: " + due.error().message);
                    return finish_round(false);
                }
                queue.assign(due->begin(), due->end());
                next();
            });
    }

    void next() {
        if (!running) return;
        if (queue.empty()) return finish_round(false);
        ledger::OutboxMessage m = std::move(queue.front());
        queue.pop_front();
        adapters::UpstreamClient* client = deps.client_for ? deps.client_for(m.service) : nullptr;
        if (!client) return settle(m, false, "service '" + m.service + "' is not configured", "", false);
        adapters::HttpCall call;
        call.method = m.method;
        call.path = m.path;
        call.body = m.body;
        call.idempotency_key = m.idempotency_key;
        std::weak_ptr<Impl> weak = shared_from_this();
        client->call(std::move(call), [weak, m](adapters::CallResult r) {
            auto self = weak.lock();
            if (!self || !self->running) return;
            if (!r) return self->settle(m, false, r.error().message, "", false);
            if (r->status >= 200 && r->status < 300) return self->settle(m, true, "", r->body, false);
            auto e = upstream::parse_service_error(static_cast<int>(r->status), r->body);
            // 401/403: our credentials; a fixed config delivers it, so keep trying.
            bool permanent = !e.transient() && r->status != 401 && r->status != 403;
            std::string why = "HTTP " + std::to_string(r->status) + (e.code.empty() ? "" : " " + e.code) +
                              (e.message.empty() ? "" : ": " + e.message);
            self->settle(m, false, why, r->body, permanent);
        });
    }

    void settle(const ledger::OutboxMessage& m, bool ok, std::string error, std::string reply, bool permanent) {
        auto policy = deps.policy;
        std::int64_t id = m.id;
        write<ledger::OutboxMessage>(
            [=](ledger::Tx& tx) {
                return ok ? ledger::outbox_delivered(tx, id, reply)
                          : ledger::outbox_failed(tx, id, error, reply, permanent, policy);
            },
            [this, m, error](ledger::Result<ledger::OutboxMessage> r) {
                if (!r) {
                    log::error("PB_OUTBOX_WRITE_FAILED", "outbox message " + std::to_string(m.id) + ": " + r.error().message);
                    return finish_round(false);
                }
                count(r->state, m.service);
                switch (r->state) {
                    case ledger::OutboxState::delivered:
                        ++counters.delivered;
                        log::info("PB_OUTBOX_DELIVERED", "outbox " + std::to_string(m.id) + " " + m.service + " " + m.path +
                                                             " key " + m.idempotency_key + " after " +
                                                             std::to_string(r->attempts) + " attempt(s)");
                        break;
                    case ledger::OutboxState::dead:
                        ++counters.dead;
                        log::error("PB_OUTBOX_DEAD", "outbox " + std::to_string(m.id) + " key " + m.idempotency_key +
                                                         " is a dead letter: " + r->last_error);
                        break;
                    case ledger::OutboxState::pending:
                        ++counters.failed_attempts;
                        log::warn("PB_OUTBOX_RETRY", "outbox " + std::to_string(m.id) + " key " + m.idempotency_key +
                                                         " attempt " + std::to_string(r->attempts) + " failed: " + error);
                        break;
                }
                if (r->state != ledger::OutboxState::pending && deps.on_settled) deps.on_settled(*r);
                next();
            });
    }

    void count(ledger::OutboxState state, const std::string& service) {
        if (!deps.metrics) return;
        const Labels labels{{"service", service}};
        switch (state) {
            case ledger::OutboxState::delivered:
                deps.metrics->counter("paybridge_outbox_delivered_total", "Outbox messages acknowledged by their service", labels).inc();
                break;
            case ledger::OutboxState::dead:
                deps.metrics->counter("paybridge_outbox_dead_total", "Outbox messages moved to the dead letters", labels).inc();
                break;
            case ledger::OutboxState::pending:
                deps.metrics->counter("paybridge_outbox_failed_attempts_total", "Failed outbox delivery attempts (retried)", labels).inc();
                break;
        }
    }

    void finish_round(bool) {
        busy = false;
        queue.clear();
        if (poked) {
            poked = false;
            std::weak_ptr<Impl> weak = shared_from_this();
            asio::post(deps.executor, [weak] {
                if (auto self = weak.lock()) self->round();
            });
            return;
        }
        write<std::optional<std::int64_t>>(
            [](ledger::Tx& tx) -> ledger::Result<std::optional<std::int64_t>> {
                auto next = ledger::outbox_next_due(tx);
                if (!next) return next;
                if (!*next) return std::optional<std::int64_t>{};
                return std::optional<std::int64_t>{**next - tx.now_utc_ms()};
            },
            [this](ledger::Result<std::optional<std::int64_t>> wait) {
                if (busy) return;  // a poke started a round meanwhile
                std::chrono::milliseconds delay = deps.max_idle;
                if (wait && *wait) delay = std::min(delay, std::chrono::milliseconds(std::max<std::int64_t>(**wait, 0)));
                arm(delay);
            });
    }

    void arm(std::chrono::milliseconds delay) {
        timer->expires_after(delay);
        std::weak_ptr<Impl> weak = shared_from_this();
        timer->async_wait([weak](boost::system::error_code ec) {
            if (ec) return;
            if (auto self = weak.lock()) self->round();
        });
    }
};

OutboxSender::OutboxSender(OutboxSenderDeps deps) : impl_(std::make_shared<Impl>()) {
    impl_->deps = std::move(deps);
    impl_->timer = std::make_unique<asio::steady_timer>(impl_->deps.executor);
}

OutboxSender::~OutboxSender() { stop(); }

void OutboxSender::start() {
    impl_->running = true;
    impl_->round();
}

void OutboxSender::poke() {
    std::weak_ptr<Impl> weak = impl_;
    asio::post(impl_->deps.executor, [weak] {
        if (auto self = weak.lock()) self->round();
    });
}

void OutboxSender::stop() {
    impl_->running = false;
    impl_->timer->cancel();
}

OutboxSender::Counters OutboxSender::counters() const { return impl_->counters; }

}  // namespace pb::daemon
