// ledger_bench: durable payments per second, next to a raw SQLite baseline measured in the same
// run on the same disk (stack.md: same-run baselines matter more than reference figures).
//
//   ledger_bench [DIR] [SECONDS_PER_CASE]
//
// Cases (all WAL + synchronous=FULL, i.e. one fsync per commit):
//   raw_sqlite_single_row_commit  one 200-byte INSERT per transaction, no ledger
//   ledger_single_appends         one caller, begin_payment then wait for durability, repeated
//   ledger_group_commit_N         N callers with one append in flight each (group commit)
//   ledger_async_window_W         one caller keeping W submits in flight (the daemon's shape)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "bench/baseline.hpp"
#include "ledger/ledger.hpp"

namespace {
using namespace pb::ledger;
using Clock = std::chrono::steady_clock;

pb::ledger::PaymentRequest request(const std::string& key) {
    PaymentRequest r;
    r.order_id = key;
    r.request_key = key;
    r.amount = pb::Money{12345, *pb::currency_from_code("SEK")};
    r.tender = Tender::card;
    r.register_id = "K1";
    r.terminal_id = "T1";
    r.operator_id = "anna";
    r.receptionist = "SR-17";
    r.business_date = "2026-11-23";
    return r;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::unique_ptr<Ledger> open_ledger(const std::string& path) {
    Options o;
    o.storage = Storage::file;
    o.path = path;
    auto l = Ledger::open(o);
    if (!l) {
        std::fprintf(stderr, "open: %s\n", l.error().message.c_str());
        std::exit(1);
    }
    return std::move(*l);
}

double single_appends(const std::string& path, double secs) {
    auto l = open_ledger(path);
    long n = 0;
    const auto t0 = Clock::now();
    while (seconds_since(t0) < secs) {
        auto r = request("s" + std::to_string(n++));
        if (!l->run<Begun>([&](Tx& tx) { return tx.begin_payment(r); })) std::exit(1);
    }
    return static_cast<double>(n) / seconds_since(t0);
}

double concurrent_appends(const std::string& path, int callers, double secs) {
    auto l = open_ledger(path);
    std::atomic<long> n{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < callers; ++c)
        threads.emplace_back([&, c] {
            for (long i = 0; seconds_since(t0) < secs; ++i) {
                auto r = request("c" + std::to_string(c) + "-" + std::to_string(i));
                if (!l->run<Begun>([&](Tx& tx) { return tx.begin_payment(r); })) std::exit(1);
                ++n;
            }
        });
    for (auto& t : threads) t.join();
    return static_cast<double>(n.load()) / seconds_since(t0);
}

double async_window(const std::string& path, int window, double secs) {
    auto l = open_ledger(path);
    std::vector<std::future<Result<Begun>>> inflight;
    long submitted = 0, done = 0;
    const auto t0 = Clock::now();
    while (seconds_since(t0) < secs) {
        while (static_cast<int>(inflight.size()) < window) {
            auto r = request("a" + std::to_string(submitted++));
            inflight.push_back(l->submit<Begun>([r](Tx& tx) { return tx.begin_payment(r); }));
        }
        if (!inflight.front().get()) std::exit(1);
        inflight.erase(inflight.begin());
        ++done;
    }
    for (auto& f : inflight) {
        (void)f.get();
        ++done;
    }
    return static_cast<double>(done) / seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
    const std::filesystem::path dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path() / "pb-ledger-bench";
    const double secs = argc > 2 ? std::atof(argv[2]) : 2.0;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto file = [&](const char* name) { return (dir / name).string(); };

    std::printf("ledger_bench: %s, %.1f s per case, WAL + synchronous=FULL\n", dir.c_str(), secs);
    const double raw = pb::bench::raw_sqlite_commits(file("raw.db"), secs).per_second;
    std::printf("%-34s %10.0f commits/s   (baseline)\n", "raw_sqlite_single_row_commit", raw);
    const double single = single_appends(file("single.db"), secs);
    std::printf("%-34s %10.0f payments/s  x%.2f of baseline\n", "ledger_single_appends", single, single / raw);
    for (int callers : {4, 16, 64}) {
        const double r = concurrent_appends(file(("group" + std::to_string(callers) + ".db").c_str()), callers, secs);
        std::printf("%-34s %10.0f payments/s  x%.2f of baseline\n",
                    ("ledger_group_commit_" + std::to_string(callers) + "_callers").c_str(), r, r / raw);
    }
    for (int window : {64, 512}) {
        const double r = async_window(file(("async" + std::to_string(window) + ".db").c_str()), window, secs);
        std::printf("%-34s %10.0f payments/s  x%.2f of baseline\n",
                    ("ledger_async_window_" + std::to_string(window)).c_str(), r, r / raw);
    }
    std::printf("(day-close and history over 1,000,000 payments: finance_bench)\n");
    std::filesystem::remove_all(dir);
    return 0;
}
