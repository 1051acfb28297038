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
#include "ledger/outbox.hpp"

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

TEST(FinanceCli, ReconcileSettlementOperatorsAndUsageErrors) {
    TempDir dir;
    const std::string db = (dir.path / "ledger.db").string();
    seed(db);
    const std::string L = " --ledger " + db;

    // Usage errors exit 2 and say what is wrong; a missing ledger is a failure (1), not created.
    auto missing = paybridge("reconcile" + L + " --register K1 --date 2026-11-23 --operator boss");
    EXPECT_EQ(missing.status, 2) << missing.out;  // --counted is required
    EXPECT_NE(missing.out.find("--counted"), std::string::npos) << missing.out;
    auto bad_amount = paybridge("reconcile" + L + " --register K1 --date 2026-11-23 --operator boss --counted 1,5");
    EXPECT_EQ(bad_amount.status, 2) << bad_amount.out;
    EXPECT_NE(bad_amount.out.find("'1,5' is not an amount"), std::string::npos) << bad_amount.out;
    auto nowhere = paybridge("history --ledger " + (dir.path / "nope.db").string());
    EXPECT_EQ(nowhere.status, 1) << nowhere.out;
    EXPECT_FALSE(std::filesystem::exists(dir.path / "nope.db"));
    EXPECT_EQ(paybridge("no-such-command").status, 2);
    // history's benefit options (issue 7): a bad tender, --today with dates.
    auto tender = paybridge("history" + L + " --tender voucher");
    EXPECT_EQ(tender.status, 2) << tender.out;
    EXPECT_NE(tender.out.find("--tender 'voucher'"), std::string::npos) << tender.out;
    auto both = paybridge("history" + L + " --today --from 2026-11-01");
    EXPECT_EQ(both.status, 2) << both.out;
    auto card = paybridge("history" + L + " --tender card --json");
    ASSERT_EQ(card.status, 0) << card.out;
    EXPECT_EQ(boost::json::parse(card.out).as_array().size(), 3u) << card.out;
    auto none = paybridge("history" + L + " --tender benefit --from 2026-11-23 --to 2026-11-23 --json");
    ASSERT_EQ(none.status, 0) << none.out;
    EXPECT_TRUE(boost::json::parse(none.out).as_array().empty()) << none.out;
    auto stats = paybridge("history" + L + " --stats --from 2026-11-01 --to 2026-11-30");
    ASSERT_EQ(stats.status, 0) << stats.out;
    EXPECT_NE(stats.out.find("Benefit purchases 2026-11-01 .. 2026-11-30"), std::string::npos) << stats.out;

    // Cash count: float 500.00, no cash sales, counted 495.50 -> 4.50 short.
    auto r = paybridge("reconcile" + L + " --register K1 --date 2026-11-23 --operator boss --float 500 "
                       "--counted 495.50 --json");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto count = boost::json::parse(r.out).as_object();
    EXPECT_EQ(count.at("expected_minor").as_int64(), 50000);
    EXPECT_EQ(count.at("difference_minor").as_int64(), -450);
    EXPECT_EQ(count.at("counted_by").as_string(), "boss");

    // Close T1 without terminal totals, then a settlement with one matching and one stray deposit.
    auto c = paybridge("day-close" + L + " --register K1 --terminal T1 --date 2026-11-23 --operator boss "
                       "--no-terminal-totals");
    ASSERT_EQ(c.status, 0) << c.out;
    auto shown = paybridge("day-close" + L + " --terminal T1 --date 2026-11-23 --show --json");
    ASSERT_EQ(shown.status, 0) << shown.out;
    EXPECT_EQ(boost::json::parse(shown.out).at("ledger_amount_minor").as_int64(), 15000);

    const std::string bad_csv = (dir.path / "bad.csv").string();
    std::ofstream(bad_csv) << "payout_date,issuer,gross,fees,net,batch_reference\n2026-11-25,visa,150.00,2.00,149.00,\n";
    auto bad = paybridge("settlement import" + L + " " + bad_csv);
    EXPECT_EQ(bad.status, 2) << bad.out;
    EXPECT_NE(bad.out.find("line 2, column 29 (net)"), std::string::npos) << bad.out;

    const std::string csv = (dir.path / "settle.csv").string();
    std::ofstream(csv) << "payout_date,issuer,gross,fees,net,batch_reference\n"
                          "2026-11-25,Visa,150.00,2.00,148.00,\n"
                          "2026-11-25,amex,99.00,1.00,98.00,\n";
    auto imp = paybridge("settlement import" + L + " " + csv);
    ASSERT_EQ(imp.status, 0) << imp.out;
    EXPECT_EQ(paybridge("settlement import" + L + " " + csv).status, 1);  // same file twice
    auto m = paybridge("settlement match" + L + " --json");
    ASSERT_EQ(m.status, 0) << m.out;
    const auto match = boost::json::parse(m.out).as_object();
    ASSERT_EQ(match.at("matched").as_array().size(), 1u) << m.out;
    EXPECT_EQ(match.at("matched").as_array()[0].at("rule").as_string(), "issuer_date_total");
    ASSERT_EQ(match.at("unmatched_deposits").as_array().size(), 1u);
    EXPECT_EQ(match.at("unmatched_deposits").as_array()[0].at("issuer_id").as_string(), "amex");
    EXPECT_TRUE(match.at("unmatched_batches").as_array().empty());

    // Operators: a role first, then its first administrator (bootstrap), then a refused actor.
    ASSERT_EQ(paybridge("operators grant" + L + " --role admin --rights administer,close_day --actor boss").status, 0);
    auto add = paybridge("operators add" + L + " boss --name Boss --role admin --actor boss");
    ASSERT_EQ(add.status, 0) << add.out;
    auto refused = paybridge("operators add" + L + " eve --role admin --actor eve");
    EXPECT_EQ(refused.status, 1) << refused.out;
    EXPECT_NE(refused.out.find("permission_denied"), std::string::npos) << refused.out;
    auto ops = paybridge("operators list" + L + " --json");
    ASSERT_EQ(ops.status, 0) << ops.out;
    EXPECT_EQ(boost::json::parse(ops.out).at("operators").as_array().size(), 1u) << ops.out;

    auto v = paybridge("ledger verify --ledger " + db);
    EXPECT_EQ(v.status, 0) << v.out;
}

// `paybridge outbox list|retry` (issue 7): a dead letter is listed, put back to pending with its
// key, and a retry of a message that is not dead is refused (exit 1) and changes nothing.
TEST(OutboxCli, ListAndRetryDeadLetters) {
    TempDir dir;
    const std::string db = (dir.path / "ledger.sqlite").string();
    {
        Options o;
        o.storage = Storage::file;
        o.path = db;
        auto l = Ledger::open(o);
        ASSERT_TRUE(l) << l.error().message;
        for (const char* key : {"commitment-receipt:O-1#c1", "commitment-receipt:O-2#c1"}) {
            OutboxNew m;
            m.idempotency_key = key;
            m.service = "commitment";
            m.path = "/v1/commitments/receipts";
            m.body = "{}";
            m.subject = "payment/1";
            ASSERT_TRUE((*l)->run<OutboxMessage>([&](Tx& tx) { return outbox_enqueue(tx, m); }));
        }
        ASSERT_TRUE((*l)->run<OutboxMessage>(
            [](Tx& tx) { return outbox_failed(tx, 1, "HTTP 409 idempotency_conflict", "{}", true, RetryPolicy{}); }));
    }
    const std::string L = " --ledger " + db;
    auto dead = paybridge("outbox list" + L + " --state dead --json");
    ASSERT_EQ(dead.status, 0) << dead.out;
    auto msgs = boost::json::parse(dead.out).at("messages").as_array();
    ASSERT_EQ(msgs.size(), 1u) << dead.out;
    EXPECT_EQ(msgs[0].at("idempotency_key").as_string(), "commitment-receipt:O-1#c1");
    EXPECT_EQ(msgs[0].at("last_error").as_string(), "HTTP 409 idempotency_conflict");

    auto table = paybridge("outbox list" + L);
    ASSERT_EQ(table.status, 0) << table.out;
    EXPECT_NE(table.out.find("dead"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("pending"), std::string::npos) << table.out;

    auto not_dead = paybridge("outbox retry 2" + L);
    EXPECT_EQ(not_dead.status, 1) << not_dead.out;
    EXPECT_NE(not_dead.out.find("only dead letters are retried"), std::string::npos) << not_dead.out;
    EXPECT_EQ(paybridge("outbox retry" + L).status, 2);                  // neither ID nor --all-dead
    EXPECT_EQ(paybridge("outbox list" + L + " --state lost").status, 2);  // not a state

    auto retried = paybridge("outbox retry 1" + L + " --by lena --json");
    ASSERT_EQ(retried.status, 0) << retried.out;
    auto pending = paybridge("outbox list" + L + " --state pending --json");
    EXPECT_EQ(boost::json::parse(pending.out).at("messages").as_array().size(), 2u) << pending.out;
    EXPECT_EQ(paybridge("ledger verify --ledger " + db).status, 0);
}

}  // namespace
