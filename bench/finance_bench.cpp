// finance_bench: day-close time and history-by-order latency over a large ledger (issue 4,
// "Done when"). Not part of ctest: it builds a 1,000,000-payment ledger, which takes minutes.
//
//   finance_bench [--payments N] [--days D] [--terminals T] [--lookups L] [--dir DIR] [--keep]
//   finance_bench --reuse LEDGER [--lookups L]
//
// --reuse skips the build and measures on a ledger kept by an earlier --keep run: the worst
// case is then the first of T2..T<T> that was never closed, closed for 2026-12-31 (each reuse
// closes one more terminal, so a kept ledger serves T-2 reruns).
//
// The ledger is built through the public API (begin_payment, mark_sent, record_result: three
// journal events per payment, hash-chained), one unit of work per business day, so one
// transaction per day instead of one fsync per payment. Payments are spread round-robin over T
// terminals (register K<i> with terminal T<i>) and D business dates; every payment is approved
// with a Visa or Mastercard. T0 is closed at the end of every day, so its batch is one day;
// T1 is never closed until the end, so its close scans the whole journal (the worst case).
//
// Prints: build rate, close of T0 for the last day (typical), close of T1 over the whole
// ledger (worst case), and p50/p99/max of Reader::history by order id over L random orders.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ledger/day_close.hpp"
#include "ledger/finance_common.hpp"
#include "ledger/ledger.hpp"
#include "ledger/store.hpp"

namespace {
using namespace pb::ledger;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Args {
    long payments = 1'000'000;
    int days = 100;
    int terminals = 10;
    int lookups = 10'000;
    std::string dir;
    bool keep = false;
    std::string reuse;
};

Args parse(int argc, char** argv) {
    Args a;
    const char* t = std::getenv("TMPDIR");
    a.dir = t && *t ? t : "/tmp";
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "finance_bench: %s needs a value\n", k.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (k == "--payments") a.payments = std::stol(next());
        else if (k == "--days") a.days = std::stoi(next());
        else if (k == "--terminals") a.terminals = std::stoi(next());
        else if (k == "--lookups") a.lookups = std::stoi(next());
        else if (k == "--dir") a.dir = next();
        else if (k == "--keep") a.keep = true;
        else if (k == "--reuse") a.reuse = next();
        else {
            std::fprintf(stderr, "usage: finance_bench [--payments N] [--days D] [--terminals T] [--lookups L] "
                                 "[--dir DIR] [--keep] | --reuse LEDGER [--lookups L]\n");
            std::exit(2);
        }
    }
    a.days = std::max(1, a.days);
    a.terminals = std::max(2, a.terminals);
    return a;
}

template <class T>
T must(Result<T> r, const char* what) {
    if (!r) {
        std::fprintf(stderr, "finance_bench: %s: %s\n", what, r.error().message.c_str());
        std::exit(1);
    }
    return std::move(*r);
}


void worst_close(Ledger& ledger, const std::string& reg, const std::string& terminal, const std::string& date,
                 const std::string& closer = "boss") {
    DayCloseRequest worst{reg, terminal, date, closer, std::nullopt, "", "SEK"};
    const auto c1 = Clock::now();
    const auto t1 = must(ledger.run<DayClose>([&](Tx& tx) { return close_day(tx, worst); }), "close worst case");
    std::printf("day-close %s %s (never closed: %lld payments, journal window %lld events): %.1f ms\n",
                terminal.c_str(), date.c_str(), static_cast<long long>(t1.ledger_count),
                static_cast<long long>(t1.to_seq - t1.from_seq), ms_since(c1));
}

int history(Ledger& ledger, long made, int lookups) {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<long> pick(0, made - 1);
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(lookups));
    for (int i = 0; i < lookups; ++i) {
        HistoryFilter f;
        f.order_id = "O-" + std::to_string(pick(rng));
        const auto q0 = Clock::now();
        auto r = ledger.reader()->history(f);
        us.push_back(ms_since(q0) * 1000);
        if (!r || r->size() != 1) {
            std::fprintf(stderr, "finance_bench: history of %s returned %zu rows\n", f.order_id->c_str(),
                         r ? r->size() : 0);
            return 1;
        }
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[static_cast<std::size_t>(p * static_cast<double>(us.size() - 1))]; };
    std::printf("history by order (%d random orders of %ld): p50 %.1f us, p99 %.1f us, max %.1f us\n", lookups, made,
                pct(0.50), pct(0.99), us.back());
    return 0;
}

// A ledger kept by an earlier run: close the first never-closed terminal, then the history.
int measure_kept(Ledger& ledger, int lookups) {
    const long made = must(ledger.run<std::int64_t>([](Tx& tx) -> Result<std::int64_t> {
                               return tx.store().db.scalar("SELECT count(*) FROM payments").value_or(0);
                           }),
                           "count");
    for (int t = 2; t < 100; ++t) {
        const std::string n = std::to_string(t);
        const bool closed = must(ledger.run<bool>([&](Tx& tx) -> Result<bool> {
                                     auto c = day_closes(tx, DayCloseFilter{});
                                     if (!c) return pb::unexpected(c.error());
                                     for (const auto& x : *c)
                                         if (x.terminal_id == "T" + n) return true;
                                     return false;
                                 }),
                                 "closes");
        if (closed) continue;
        // A daemon that ran on the kept ledger seeded its operators: close as one who may.
        const std::string closer = must(ledger.run<std::string>([](Tx& tx) -> Result<std::string> {
                                            auto st = tx.store().db.prepare("SELECT id FROM operators ORDER BY id");
                                            while (st.step())
                                                if (tx.may(st.text(0), Right::close_day)) return st.text(0);
                                            return std::string("boss");
                                        }),
                                        "operators");
        worst_close(ledger, "K" + n, "T" + n, "2026-12-31", closer);
        return history(ledger, made, lookups);
    }
    std::fprintf(stderr, "finance_bench: every terminal of the kept ledger is closed already\n");
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    const std::string path =
        a.reuse.empty() ? a.dir + "/pb-finance-bench-" + std::to_string(::getpid()) + ".db" : a.reuse;
    Options o;
    o.storage = Storage::file;
    o.path = path;
    std::int64_t now = 1'795'435'200'000;
    o.clock = [&now] { return now; };
    auto ledger = must(Ledger::open(o), "open");
    must(ledger->run<bool>([](Tx& tx) -> Result<bool> {
             if (auto s = tx.set_issuers(default_issuers()); !s) return pb::unexpected(s.error());
             return true;
         }),
         "issuers");

    if (!a.reuse.empty()) return measure_kept(*ledger, a.lookups);
    const auto sek = *pb::currency_from_code("SEK");
    const long per_day = (a.payments + a.days - 1) / a.days;
    std::printf("building %ld payments over %d days and %d terminals in %s\n", a.payments, a.days, a.terminals,
                path.c_str());
    const auto build0 = Clock::now();
    long made = 0;
    std::string last_date;
    double t0_close_ms = 0;
    DayClose t0_close;
    for (int day = 0; day < a.days && made < a.payments; ++day) {
        const std::string date = finance::date_from_days(finance::days_from_date("2026-01-01") + day);
        last_date = date;
        const long n = std::min(per_day, a.payments - made);
        const long first = made;
        must(ledger->run<bool>([&](Tx& tx) -> Result<bool> {
                 TerminalData visa, mc;
                 visa.brand = pb::CardBrand::visa;
                 visa.pan = *pb::MaskedPan::from_digits("4111111111111111");
                 mc.brand = pb::CardBrand::mastercard;
                 mc.pan = *pb::MaskedPan::from_digits("5500000000000004");
                 for (long i = first; i < first + n; ++i) {
                     const int t = static_cast<int>(i % a.terminals);
                     PaymentRequest r;
                     r.order_id = "O-" + std::to_string(i);
                     r.request_key = r.order_id + "/1";
                     r.amount = pb::Money{1000 + (i % 50000), sek};
                     r.register_id = "K" + std::to_string(t);
                     r.terminal_id = "T" + std::to_string(t);
                     r.operator_id = "anna";
                     r.business_date = date;
                     auto b = tx.begin_payment(r);
                     if (!b) return pb::unexpected(b.error());
                     if (auto s = tx.mark_sent(b->payment.id); !s) return pb::unexpected(s.error());
                     auto res = tx.record_result(b->payment.id, PaymentState::approved, i % 3 ? visa : mc);
                     if (!res) return pb::unexpected(res.error());
                 }
                 return true;
             }),
             "build");
        made += n;
        now += 86'400'000;
        DayCloseRequest close{"K0", "T0", date, "boss", std::nullopt, "", "SEK"};
        const auto c0 = Clock::now();
        t0_close = must(ledger->run<DayClose>([&](Tx& tx) { return close_day(tx, close); }), "close T0");
        t0_close_ms = ms_since(c0);
        if ((day + 1) % 10 == 0 || made == a.payments)
            std::fprintf(stderr, "  %ld payments, %.0f s\n", made, ms_since(build0) / 1000);
    }
    const double build_s = ms_since(build0) / 1000;
    std::printf("build: %ld payments (%ld journal events) in %.1f s = %.0f payments/s\n", made, made * 3 + a.days,
                build_s, static_cast<double>(made) / build_s);
    std::printf("day-close T0 %s (one day's batch: %lld payments, journal window %lld events): %.1f ms\n",
                last_date.c_str(), static_cast<long long>(t0_close.ledger_count),
                static_cast<long long>(t0_close.to_seq - t0_close.from_seq), t0_close_ms);

    worst_close(*ledger, "K1", "T1", last_date);
    if (history(*ledger, made, a.lookups) != 0) return 1;

    ledger.reset();
    if (!a.keep) {
        for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
    } else {
        std::printf("kept %s\n", path.c_str());
    }
    return 0;
}
