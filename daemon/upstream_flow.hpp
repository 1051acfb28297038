#pragma once
// What every upstream flow's implementation (commitment cards, benefit vouchers) does the same
// way: ledger writes whose completions come back to the loop while the flow lives, the outbox
// poke, the injected clock, and the checks that need only the running daemon. `Deps` is the
// flow's dependencies (executor, ledger, port, outbox_poke, clock_ms and its own).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "daemon/erp_views.hpp"
#include "daemon/ledger_on_loop.hpp"
#include "daemon/erp_port.hpp"
#include "daemon/log.hpp"

namespace pb::daemon {

template <class Impl, class Deps>
struct UpstreamFlowBase : std::enable_shared_from_this<Impl> {
    Deps deps;

    std::int64_t now() const { return deps.clock_ms ? deps.clock_ms() : 0; }

    template <class T>
    void write(ledger::Ledger::Work<T> work, std::function<void(ledger::Result<T>)> then) {
        write_on_loop<T>(*deps.ledger, deps.executor, this->weak_from_this(), std::move(work), std::move(then));
    }

    void poke() {
        if (deps.outbox_poke) deps.outbox_poke();
    }

    /// The service acknowledged the void of an operation that got no answer: the payment is
    /// declined (nothing charged) with `why`, and the ERP hears of it. `outcome` ends the
    /// PB_PAYMENT_RESULT log line, `not_recorded` names a failed write.
    void record_voided(ledger::PaymentId pid, std::string why, std::string outcome, std::string not_recorded) {
        ledger::TerminalData data;
        data.text = std::move(why);
        write<ledger::Payment>([pid, data](ledger::Tx& tx) { return tx.record_result(pid, ledger::PaymentState::declined, data); },
                               [this, outcome, not_recorded](ledger::Result<ledger::Payment> res) {
                                   if (!res) return log::warn(not_recorded, res.error().message);
                                   log::info("PB_PAYMENT_RESULT", payment_ref(res->id) + " declined (" + outcome + ")");
                                   deps.port->publish(erp::PaymentResult{view_of(*res)});
                               });
    }

    /// Answers the ERP and returns true when the daemon refuses before asking the service.
    bool refused_here(const std::string& client, const erp::Request& r, const std::string& register_id) {
        auto e = refused_by_daemon(*deps.port, r, register_id);
        if (e) deps.port->reply_err(client, *e);
        return e.has_value();
    }
};

}  // namespace pb::daemon
