#pragma once
// A small registry of counters and gauges with Prometheus text exposition (format 0.0.4),
// served by the dashboard at /metrics. Handles stay valid for the registry's lifetime;
// increments are atomic so the ledger's writer thread may count too.

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pb::daemon {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
    void add(std::int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
    std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

class Metrics {
public:
    /// The counter `name{labels}`; the same name and labels give the same counter. Names follow
    /// Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*, counters end in _total); a name first
    /// registered as a gauge may not become a counter (programming error: throws).
    Counter& counter(const std::string& name, const std::string& help, Labels labels = {});
    Gauge& gauge(const std::string& name, const std::string& help, Labels labels = {});

    /// Prometheus text exposition, families sorted by name, series in registration order.
    std::string expose() const;

private:
    struct Family {
        std::string help;
        bool is_counter = true;
        std::vector<std::pair<Labels, std::size_t>> series;  // index into counters_ / gauges_
    };
    std::size_t find_or_add(const std::string& name, const std::string& help, bool is_counter, Labels labels);

    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
    std::deque<Counter> counters_;  // deque: references stay valid as it grows
    std::deque<Gauge> gauges_;
};

}  // namespace pb::daemon
