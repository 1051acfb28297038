#include "bench/baseline.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <zmq.hpp>

namespace pb::bench {
namespace {
using Clock = std::chrono::steady_clock;

double us_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

void must_sqlite(int rc, sqlite3* db, const char* what) {
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return;
    std::fprintf(stderr, "raw sqlite baseline: %s: %s\n", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    std::exit(1);
}
}  // namespace

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

RawCommitter::RawCommitter(std::string path) : path_(std::move(path)) {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
    must_sqlite(sqlite3_open(path_.c_str(), &db_), db_, "open");
    must_sqlite(sqlite3_exec(db_,
                             "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                             "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
                             nullptr, nullptr, nullptr),
                db_, "schema");
    must_sqlite(sqlite3_prepare_v2(db_, "INSERT INTO t(v) VALUES(?)", -1, &insert_, nullptr), db_, "prepare");
}

RawCommitter::~RawCommitter() {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
}

double RawCommitter::commit_us() {
    static const std::string row(200, 'x');
    const auto c0 = Clock::now();
    must_sqlite(sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr), db_, "begin");
    sqlite3_bind_text(insert_, 1, row.data(), static_cast<int>(row.size()), SQLITE_STATIC);
    must_sqlite(sqlite3_step(insert_), db_, "insert");
    sqlite3_reset(insert_);
    must_sqlite(sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), db_, "commit");
    return us_between(c0, Clock::now());
}

CommitBaseline raw_sqlite_commits(const std::string& path, double seconds, long max_commits) {
    RawCommitter raw(path);
    CommitBaseline out;
    const auto t0 = Clock::now();
    const auto until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (Clock::now() < until && (max_commits < 0 || static_cast<long>(out.latency_us.size()) < max_commits))
        out.latency_us.push_back(raw.commit_us());
    out.per_second = static_cast<double>(out.latency_us.size()) /
                     std::chrono::duration<double>(Clock::now() - t0).count();
    return out;
}

struct ZmqEcho::Impl {
    zmq::context_t ctx{1};
    zmq::socket_t router{ctx, zmq::socket_type::router};
    zmq::socket_t dealer{ctx, zmq::socket_type::dealer};
    std::thread echo;
    const std::string body = std::string(220, 'x');
};

ZmqEcho::ZmqEcho() : impl_(std::make_unique<Impl>()) {
    impl_->router.set(zmq::sockopt::linger, 0);
    impl_->dealer.set(zmq::sockopt::linger, 0);
    impl_->router.bind("tcp://127.0.0.1:*");
    impl_->dealer.connect(impl_->router.get(zmq::sockopt::last_endpoint));
    impl_->echo = std::thread([i = impl_.get()] {
        for (;;) {
            zmq::message_t id, empty, body;
            if (!i->router.recv(id) || !i->router.recv(empty) || !i->router.recv(body)) return;
            if (body.size() == 0) return;  // the destructor's stop message
            i->router.send(id, zmq::send_flags::sndmore);
            i->router.send(empty, zmq::send_flags::sndmore);
            i->router.send(body, zmq::send_flags::none);
        }
    });
    for (int k = 0; k < 100; ++k) (void)round_trip_us();  // connection and allocator warm-up
}

ZmqEcho::~ZmqEcho() {
    impl_->dealer.send(zmq::message_t(), zmq::send_flags::sndmore);
    impl_->dealer.send(zmq::message_t(), zmq::send_flags::none);
    impl_->echo.join();
}

double ZmqEcho::round_trip_us() {
    const auto t0 = Clock::now();
    impl_->dealer.send(zmq::message_t(), zmq::send_flags::sndmore);
    impl_->dealer.send(zmq::buffer(impl_->body), zmq::send_flags::none);
    zmq::message_t empty, reply;
    if (!impl_->dealer.recv(empty) || !impl_->dealer.recv(reply)) return -1;
    return us_between(t0, Clock::now());
}

std::vector<double> raw_zmq_round_trips_us(int count) {
    ZmqEcho echo;
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) us.push_back(echo.round_trip_us());
    return us;
}

}  // namespace pb::bench
