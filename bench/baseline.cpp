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

CommitBaseline raw_sqlite_commits(const std::string& path, double seconds, long max_commits) {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
    sqlite3* db = nullptr;
    must_sqlite(sqlite3_open(path.c_str(), &db), db, "open");
    must_sqlite(sqlite3_exec(db,
                             "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                             "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
                             nullptr, nullptr, nullptr),
                db, "schema");
    sqlite3_stmt* st = nullptr;
    must_sqlite(sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES(?)", -1, &st, nullptr), db, "prepare");
    const std::string row(200, 'x');
    CommitBaseline out;
    const auto t0 = Clock::now();
    auto until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    long n = 0;
    while (Clock::now() < until && (max_commits < 0 || n < max_commits)) {
        const auto c0 = Clock::now();
        must_sqlite(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
        sqlite3_bind_text(st, 1, row.data(), static_cast<int>(row.size()), SQLITE_STATIC);
        must_sqlite(sqlite3_step(st), db, "insert");
        sqlite3_reset(st);
        must_sqlite(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
        out.latency_us.push_back(us_between(c0, Clock::now()));
        ++n;
    }
    out.per_second = static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
    return out;
}

std::vector<double> raw_zmq_round_trips_us(int count) {
    zmq::context_t ctx(1);
    zmq::socket_t router(ctx, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:*");
    const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
    const int warmup = 100;
    std::thread echo([&router, total = count + warmup] {
        for (int i = 0; i < total; ++i) {
            zmq::message_t id, empty, body;
            if (!router.recv(id) || !router.recv(empty) || !router.recv(body)) return;
            router.send(id, zmq::send_flags::sndmore);
            router.send(empty, zmq::send_flags::sndmore);
            router.send(body, zmq::send_flags::none);
        }
    });
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(endpoint);
    // About the size of a payment.start request.
    const std::string body(220, 'x');
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count + warmup; ++i) {
        const auto t0 = Clock::now();
        dealer.send(zmq::message_t(), zmq::send_flags::sndmore);
        dealer.send(zmq::buffer(body), zmq::send_flags::none);
        zmq::message_t empty, reply;
        if (!dealer.recv(empty) || !dealer.recv(reply)) break;
        if (i >= warmup) us.push_back(us_between(t0, Clock::now()));
    }
    echo.join();
    return us;
}

}  // namespace pb::bench
