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

    /// Answers the ERP and returns true when the daemon refuses before asking the service.
    bool refused_here(const std::string& client, const erp::Request& r, const std::string& register_id) {
        auto e = refused_by_daemon(*deps.port, r, register_id);
        if (e) deps.port->reply_err(client, *e);
        return e.has_value();
    }
};

}  // namespace pb::daemon
