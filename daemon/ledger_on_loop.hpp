#pragma once
// A ledger write from the daemon's loop: the work runs on the ledger's writer thread, its
// completion hops back to the loop (design.md §3 "one I/O thread owns the state") and runs
// only while its owner is alive.

#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include "ledger/ledger.hpp"

namespace pb::daemon {

template <class T, class Owner>
void write_on_loop(ledger::Ledger& ledger, boost::asio::any_io_executor loop, std::weak_ptr<Owner> owner,
                   ledger::Ledger::Work<T> work, std::function<void(ledger::Result<T>)> then) {
    ledger.submit<T>(std::move(work), [owner, loop, then = std::move(then)](ledger::Result<T> r) mutable {
        boost::asio::post(loop, [owner, then = std::move(then), r = std::move(r)]() mutable {
            if (auto alive = owner.lock()) then(std::move(r));
        });
    });
}

}  // namespace pb::daemon
