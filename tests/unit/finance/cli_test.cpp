// `paybridge history | interim list | day-close | export` run as a process against a ledger
// file written through the ledger API (issue 4, "Command line for finance").
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <boost/json.hpp>

#include "ledger/ledger.hpp"

namespace {
using namespace pb::ledger;

struct Run {
    int status;
    std::string out;
};

Run paybridge(const std::string& args) {
    const std::string cmd = std::string(PB_BINARY_DIR) + "/daemon/paybridge " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return {-1, ""};
    std::string out;
    std::array<char, 4096> buf;
    while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    const int rc = pclose(p);
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "pb-finance-cli-XXXXXX").string();
        EXPECT_NE(::mkdtemp(t.data()), nullptr);
        path = t;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// Two visa payments of 100.00 and 50.00 approved on T1, one aborted: written, then closed.
void seed(const std::string& db) {
    Options o;
    o.storage = Storage::file;
    o.path = db;
    o.clock = [] { return std::int64_t{1'795'435'200'000}; };
    auto l = Ledger::open(o);
    ASSERT_TRUE(l) << l.error().message;
    auto& ledger = **l;
    ASSERT_TRUE(ledger.run<bool>([](Tx& tx) -> Result<bool> {
        auto s = tx.set_issuers(default_issuers());
        if (!s) return pb::unexpected(s.error());
        return true;
    }));
    int n = 0;
    for (auto [minor, outcome] : {std::pair{10000, PaymentState::approved}, std::pair{5000, PaymentState::approved},
                                  std::pair{777, PaymentState::aborted}}) {
        PaymentRequest r;
        r.order_id = "O-" + std::to_string(++n);
        r.request_key = r.order_id + "/1";
        r.amount = pb::Money{minor, *pb::currency_from_code("SEK")};
        r.register_id = "K1";
        r.terminal_id = "T1";
        r.operator_id = "anna";
        r.business_date = "2026-11-23";
        TerminalData d;
        d.brand = pb::CardBrand::visa;
        d.pan = *pb::MaskedPan::from_digits("4111111111111111");
        auto p = ledger.run<Payment>([&](Tx& tx) -> Result<Payment> {
            auto b = tx.begin_payment(r);
            if (!b) return pb::unexpected(b.error());
            auto s = tx.mark_sent(b->payment.id);
            if (!s) return s;
            return tx.record_result(b->payment.id, outcome, d);
        });
        ASSERT_TRUE(p) << p.error().message;
    }
}

TEST(FinanceCli, HistoryInterimDayCloseAndSieExport) {
    TempDir dir;
    const std::string db = (dir.path / "ledger.db").string();
    seed(db);

    auto h = paybridge("history --db " + db + " --state approved --json");
    ASSERT_EQ(h.status, 0) << h.out;
    EXPECT_EQ(boost::json::parse(h.out).as_array().size(), 2u) << h.out;
    auto i = paybridge("interim list --db " + db + " --json");
    ASSERT_EQ(i.status, 0) << i.out;
    const auto interim = boost::json::parse(i.out).as_array();
    ASSERT_EQ(interim.size(), 1u);
    EXPECT_EQ(interim[0].at("amount").as_string(), "7.77");

    const std::string totals = (dir.path / "totals.json").string();
    std::ofstream(totals) << R"({"batch_reference":"B-1","totals":[{"issuer":"visa","count":2,"amount":"140.00"}]})";
    const std::string close_args = "day-close --db " + db + " --register K1 --terminal T1 --date 2026-11-23 "
                                   "--operator boss --totals " + totals;
    auto c = paybridge(close_args + " --json");
    ASSERT_EQ(c.status, 0) << c.out;
    const auto json_start = c.out.find('{');
    ASSERT_NE(json_start, std::string::npos) << c.out;
    const auto z = boost::json::parse(c.out.substr(json_start, c.out.rfind('}') - json_start + 1)).as_object();
    EXPECT_EQ(z.at("ledger_amount_minor").as_int64(), 15000);  // 100.00 + 50.00
    EXPECT_EQ(z.at("terminal_amount_minor").as_int64(), 14000);
    EXPECT_TRUE(z.at("differs").as_bool());
    EXPECT_NE(c.out.find("differ"), std::string::npos);

    auto again = paybridge(close_args);
    EXPECT_EQ(again.status, 1) << again.out;
    EXPECT_NE(again.out.find("already closed"), std::string::npos) << again.out;

    const std::string sie = (dir.path / "out.se").string();
    auto e = paybridge("export sie --db " + db + " --out " + sie);
    ASSERT_EQ(e.status, 0) << e.out;
    std::ifstream in(sie, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_EQ(bytes.rfind("#FLAGGA 0\r\n#KSUMMA\r\n", 0), 0u) << bytes;
    EXPECT_NE(bytes.find("#TRANS 1580 {} 150.00"), std::string::npos) << bytes;  // ledger takings
    EXPECT_NE(bytes.find("#TRANS 1580 {} -10.00"), std::string::npos) << bytes;  // terminal paid 10.00 less
    EXPECT_NE(bytes.find("#TRANS 1510 {} -150.00"), std::string::npos) << bytes;

    auto csv = paybridge("export csv --db " + db);
    ASSERT_EQ(csv.status, 0) << csv.out;
    EXPECT_EQ(csv.out.rfind("series,voucher,date,account", 0), 0u) << csv.out;

    auto bad = paybridge("day-close --db " + db + " --register K1 --terminal T1 --date 2026-13-01 --operator boss "
                         "--no-terminal-totals");
    EXPECT_EQ(bad.status, 2) << bad.out;
    EXPECT_NE(bad.out.find("YYYY-MM-DD"), std::string::npos) << bad.out;
}

}  // namespace
