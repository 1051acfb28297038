#pragma once
// Shared helpers for the ledger tests: a manual clock, request builders, a temp directory.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "ledger/ledger.hpp"

namespace pb::ledger::testing {

inline Currency sek() { return *currency_from_code("SEK"); }

inline PaymentRequest request(const std::string& order, const std::string& key, std::int64_t minor = 12345,
                              Tender tender = Tender::card, const std::string& terminal = "T1") {
    PaymentRequest r;
    r.order_id = order;
    r.request_key = key;
    r.amount = Money{minor, sek()};
    r.tender = tender;
    r.register_id = "K1";
    r.terminal_id = terminal;
    r.operator_id = "anna";
    r.receptionist = "SR-17";
    r.business_date = "2026-11-23";
    return r;
}

inline TerminalData visa_data(std::uint32_t trace = 42) {
    TerminalData d;
    d.brand = CardBrand::visa;
    d.pan = *MaskedPan::from_digits("4111111111111111");
    d.trace = trace;
    d.receipt_no = 7;
    d.approval_code = "123456";
    d.terminal_tid = "52500001";
    d.result_code = 0;
    return d;
}

inline Options file_options(const std::string& path, std::optional<int> target_schema = std::nullopt) {
    Options o;
    o.storage = Storage::file;
    o.path = path;
    o.target_schema = target_schema;
    return o;
}

struct ManualClock {
    std::shared_ptr<std::atomic<std::int64_t>> now = std::make_shared<std::atomic<std::int64_t>>(1'790'000'000'000);
    std::function<std::int64_t()> fn() const {
        auto n = now;
        return [n] { return n->load(); };
    }
};

/// A fresh directory under $TMPDIR removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "pb-ledger-test-XXXXXX").string();
        char* p = ::mkdtemp(t.data());
        EXPECT_NE(p, nullptr);
        path = t;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

/// Runs one command synchronously; fails the test on a storage error.
template <class F>
auto run(Ledger& l, F&& f) {
    using R = decltype(f(std::declval<Tx&>()));
    using T = std::decay_t<decltype(std::declval<R>().value())>;
    return l.run<T>(std::forward<F>(f));
}

inline Status run_status(Ledger& l, std::function<Status(Tx&)> f) {
    auto r = l.run<bool>([&](Tx& tx) -> Result<bool> {
        auto s = f(tx);
        if (!s) return pb::unexpected(s.error());
        return true;
    });
    if (!r) return pb::unexpected(r.error());
    return {};
}

}  // namespace pb::ledger::testing
