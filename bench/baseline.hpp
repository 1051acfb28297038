#pragma once
// Baselines every benchmark measures in its own run, on the same disk and loopback, so that a
// figure is printed next to what the machine can do without Paybridge (issue 6, Benchmarks):
// raw SQLite durable commits and raw ZeroMQ round trips. Plus the percentile helper.

#include <memory>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace pb::bench {

/// Sorted copy's value at fraction p (0..1) of the way from the smallest to the largest.
double percentile(std::vector<double> v, double p);

/// A fresh database at `path` (WAL, synchronous=FULL) taking one 200-byte INSERT per
/// transaction: one fsync per commit. Removed at destruction.
class RawCommitter {
public:
    explicit RawCommitter(std::string path);
    ~RawCommitter();
    RawCommitter(const RawCommitter&) = delete;
    RawCommitter& operator=(const RawCommitter&) = delete;
    /// One durable single-row commit; its BEGIN..COMMIT time in microseconds.
    double commit_us();

private:
    std::string path_;
    ::sqlite3* db_ = nullptr;
    ::sqlite3_stmt* insert_ = nullptr;
};

/// A ROUTER echoing on a second thread and a DEALER connected to it over TCP loopback.
class ZmqEcho {
public:
    ZmqEcho();
    ~ZmqEcho();
    ZmqEcho(const ZmqEcho&) = delete;
    ZmqEcho& operator=(const ZmqEcho&) = delete;
    /// One round trip of a message about the size of a payment.start; microseconds.
    double round_trip_us();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct CommitBaseline {
    double per_second = 0;           // single-row commits per second
    std::vector<double> latency_us;  // each commit's BEGIN..COMMIT time
};
/// One 200-byte INSERT per transaction into a fresh database at `path` (WAL,
/// synchronous=FULL: one fsync per commit), for `seconds` or at most `max_commits`.
CommitBaseline raw_sqlite_commits(const std::string& path, double seconds, long max_commits = -1);

/// Round trips of one small message DEALER -> ROUTER -> DEALER over TCP loopback (an echo on
/// a second thread), `count` times after a short warm-up; microseconds each.
std::vector<double> raw_zmq_round_trips_us(int count);

}  // namespace pb::bench
