#pragma once
// Running an io_context until a condition holds, with a deadline: tests never sleep.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace pb::adapters::test {

/// Runs handlers until `done()` or `deadline` passes; returns done().
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds deadline = std::chrono::milliseconds(5000)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    if (io.stopped()) io.restart();
    while (!done() && std::chrono::steady_clock::now() < end) {
        io.run_one_for(std::chrono::milliseconds(10));
        if (io.stopped()) io.restart();
    }
    return done();
}

/// Runs whatever is ready now without waiting.
inline void drain(boost::asio::io_context& io) {
    if (io.stopped()) io.restart();
    io.poll();
}

}  // namespace pb::adapters::test
