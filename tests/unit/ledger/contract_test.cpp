// The ledger contract: every backend (temporary file, in-memory) must pass all of it
// (style.md point 12; model: Kea's generic_lease_mgr_unittest).
#include <fstream>
#include <sstream>
#include <thread>
#include <type_traits>

#include "ledger_test_support.hpp"

namespace pb::ledger {
namespace {
using namespace testing;

// The only PAN type the ledger knows is the masked one.
static_assert(std::is_same_v<decltype(TerminalData::pan), pb::MaskedPan>);

class LedgerContract : public ::testing::TestWithParam<Storage> {
protected:
    void SetUp() override {
        Options o;
        o.storage = GetParam();
        o.path = dir.path.string();
        o.clock = clock.fn();
        auto l = Ledger::open(o);
        ASSERT_TRUE(l) << l.error().message;
        ledger = std::move(*l);
    }

    Result<Begun> begin(const PaymentRequest& r) { return run(*ledger, [&](Tx& tx) { return tx.begin_payment(r); }); }
    Result<Payment> sent(PaymentId id) { return run(*ledger, [&](Tx& tx) { return tx.mark_sent(id); }); }
    Result<Payment> result(PaymentId id, PaymentState s, TerminalData d = visa_data()) {
        return run(*ledger, [&](Tx& tx) { return tx.record_result(id, s, d); });
    }
    Result<Payment> unknown(PaymentId id) { return run(*ledger, [&](Tx& tx) { return tx.mark_unknown(id, "link lost"); }); }
    PaymentId sent_payment(const std::string& order, const std::string& key, const std::string& terminal = "T1") {
        auto b = begin(request(order, key, 12345, Tender::card, terminal));
        EXPECT_TRUE(b) << b.error().message;
        EXPECT_TRUE(sent(b->payment.id));
        return b->payment.id;
    }
    std::int64_t event_count() { return ledger->reader()->verify()->events_checked; }
    void setup_operators() {
        ASSERT_TRUE(run_status(*ledger, [](Tx& tx) {
            return tx.put_role("boot", Role{"admin", {Right::administer, Right::resolve_interim, Right::refund}});
        }));
        ASSERT_TRUE(run_status(*ledger, [](Tx& tx) { return tx.put_role("boot", Role{"cashier", {Right::take_card}}); }));
        ASSERT_TRUE(run_status(*ledger, [](Tx& tx) { return tx.put_operator("boot", Operator{"boss", "Boss", {"admin"}, true}); }));
        ASSERT_TRUE(run_status(*ledger, [](Tx& tx) { return tx.put_operator("boss", Operator{"anna", "Anna", {"cashier"}, true}); }));
    }

    TempDir dir;
    ManualClock clock;
    std::unique_ptr<Ledger> ledger;
};

TEST_P(LedgerContract, BeginRecordsTheRequestAsRequested) {
    auto b = begin(request("O-1", "O-1/1"));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_TRUE(b->created);
    auto p = ledger->reader()->payment(b->payment.id);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state, PaymentState::requested);
    EXPECT_EQ(p->request.order_id, "O-1");
    EXPECT_EQ(p->request.amount, (Money{12345, sek()}));
    EXPECT_EQ(p->request.register_id, "K1");
    EXPECT_EQ(p->request.terminal_id, "T1");
    EXPECT_EQ(p->request.operator_id, "anna");
    EXPECT_EQ(p->request.receptionist, "SR-17");
    EXPECT_EQ(p->request.business_date, "2026-11-23");
    EXPECT_EQ(p->created_utc_ms, clock.now->load());
}

TEST_P(LedgerContract, SameRequestKeyReturnsTheSamePaymentAndWritesNothing) {
    auto a = begin(request("O-1", "O-1/1"));
    ASSERT_TRUE(a);
    const auto events = event_count();
    auto b = begin(request("O-1", "O-1/1"));
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->created);
    EXPECT_EQ(b->payment.id, a->payment.id);
    EXPECT_EQ(event_count(), events);
}

TEST_P(LedgerContract, SameRequestKeyWithOtherAmountIsAConflict) {
    ASSERT_TRUE(begin(request("O-1", "O-1/1", 100)));
    auto b = begin(request("O-1", "O-1/1", 200));
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code, Errc::key_conflict);
}

TEST_P(LedgerContract, NoSecondPaymentOfAnOrderWhileOneIsSentOrUnknown) {
    auto id = sent_payment("O-1", "O-1/1");
    auto second = begin(request("O-1", "O-1/2"));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::order_busy);
    ASSERT_TRUE(unknown(id));
    second = begin(request("O-1", "O-1/2"));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::order_busy);
    ASSERT_TRUE(result(id, PaymentState::declined));
    second = begin(request("O-1", "O-1/2"));
    EXPECT_TRUE(second) << second.error().message;
    EXPECT_TRUE(begin(request("O-2", "O-2/1")));  // other orders were never blocked
}

TEST_P(LedgerContract, LastReceiptNoIsThatOfTheNewestPaymentOfTheTerminalWithOne) {
    auto last = [&](const char* t) { return ledger->reader()->last_receipt_no(t); };
    ASSERT_TRUE(last("T1"));
    EXPECT_EQ(*last("T1"), std::nullopt);
    auto d = visa_data();
    d.receipt_no = 40;
    auto a = sent_payment("O-1", "O-1/1", "T1");
    ASSERT_TRUE(result(a, PaymentState::approved, d));
    d.receipt_no = 41;
    auto b = sent_payment("O-2", "O-2/1", "T1");
    ASSERT_TRUE(result(b, PaymentState::approved, d));
    d.receipt_no = 900;
    auto other = sent_payment("O-3", "O-3/1", "T2");
    ASSERT_TRUE(result(other, PaymentState::approved, d));
    sent_payment("O-4", "O-4/1", "T1");  // in flight: no receipt yet
    EXPECT_EQ(*last("T1"), 41);
    EXPECT_EQ(*last("T2"), 900);
    EXPECT_EQ(*last("T3"), std::nullopt);
}

TEST_P(LedgerContract, ApprovedCardPaymentCarriesTerminalDataAndIssuer) {
    ASSERT_TRUE(run_status(*ledger, [](Tx& tx) { return tx.set_issuers(default_issuers()); }));
    auto id = sent_payment("O-1", "O-1/1");
    auto p = result(id, PaymentState::approved);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->state, PaymentState::approved);
    EXPECT_EQ(p->issuer_id, "visa");
    EXPECT_EQ(p->terminal.pan.str(), "411111******1111");
    EXPECT_EQ(p->terminal.trace, 42u);
    EXPECT_EQ(p->terminal.receipt_no, 7u);
    EXPECT_EQ(p->terminal.approval_code, "123456");
    auto stored = ledger->reader()->payment(id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->terminal.terminal_tid, "52500001");
    EXPECT_EQ(stored->issuer_id, "visa");
    auto ev = ledger->reader()->events_of(id);
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->size(), 3u);
    EXPECT_EQ((*ev)[0].kind, "payment.requested");
    EXPECT_EQ((*ev)[1].kind, "payment.sent");
    EXPECT_EQ((*ev)[2].kind, "payment.approved");
}

TEST_P(LedgerContract, InvalidTransitionsAreRefusedAndChangeNothing) {
    auto b = begin(request("O-1", "O-1/1"));
    ASSERT_TRUE(b);
    const auto id = b->payment.id;
    const auto events = event_count();
    auto r = result(id, PaymentState::approved);  // requested -> approved skips sent
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_transition);
    EXPECT_NE(r.error().message.find("requested -> approved"), std::string::npos) << r.error().message;
    auto u = unknown(id);
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error().code, Errc::invalid_transition);
    EXPECT_EQ(event_count(), events);
    EXPECT_EQ(ledger->reader()->payment(id)->state, PaymentState::requested);

    ASSERT_TRUE(sent(id));
    ASSERT_TRUE(result(id, PaymentState::declined));
    EXPECT_EQ(sent(id).error().code, Errc::invalid_transition);
    EXPECT_EQ(result(id, PaymentState::approved).error().code, Errc::invalid_transition);
    auto res = run(*ledger, [&](Tx& tx) { return tx.resolve(id, Resolution{ResolutionKind::written_off, "x", "y"}); });
    EXPECT_EQ(res.error().code, Errc::invalid_transition);
    EXPECT_EQ(result(id, PaymentState::sent).error().code, Errc::invalid_argument);
    EXPECT_EQ(run(*ledger, [&](Tx& tx) { return tx.mark_sent(PaymentId{999}); }).error().code, Errc::not_found);
}

TEST_P(LedgerContract, TransitionTableIsExactlyDesignSection4) {
    using S = PaymentState;
    const std::vector<std::pair<S, S>> allowed = {
        {S::requested, S::sent}, {S::requested, S::rejected}, {S::sent, S::approved},   {S::sent, S::declined},
        {S::sent, S::aborted},   {S::sent, S::unknown},       {S::unknown, S::approved}, {S::unknown, S::declined},
        {S::unknown, S::aborted}, {S::unknown, S::resolved},  {S::aborted, S::resolved}, {S::approved, S::reversed},
        {S::approved, S::refunded}};
    for (int f = 0; f <= static_cast<int>(S::resolved); ++f)
        for (int t = 0; t <= static_cast<int>(S::resolved); ++t) {
            const std::pair<S, S> edge{static_cast<S>(f), static_cast<S>(t)};
            const bool expect = std::find(allowed.begin(), allowed.end(), edge) != allowed.end();
            EXPECT_EQ(transition_allowed(edge.first, edge.second), expect)
                << state_id(edge.first) << " -> " << state_id(edge.second);
        }
}

TEST_P(LedgerContract, RejectedPaymentWasNeverSent) {
    auto b = begin(request("O-1", "O-1/1"));
    ASSERT_TRUE(b);
    auto r = run(*ledger, [&](Tx& tx) { return tx.reject(b->payment.id, "terminal busy"); });
    ASSERT_TRUE(r);
    EXPECT_EQ(r->state, PaymentState::rejected);
    EXPECT_EQ(r->reason, "terminal busy");
    EXPECT_EQ(sent(b->payment.id).error().code, Errc::invalid_transition);
}

TEST_P(LedgerContract, OneSentPaymentPerTerminal) {
    sent_payment("O-1", "O-1/1", "T1");
    auto b = begin(request("O-2", "O-2/1", 500, Tender::card, "T1"));
    ASSERT_TRUE(b);
    auto s = sent(b->payment.id);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::terminal_busy);
    auto c = begin(request("O-3", "O-3/1", 500, Tender::card, "T2"));
    ASSERT_TRUE(c);
    EXPECT_TRUE(sent(c->payment.id));
}

TEST_P(LedgerContract, BeginAndMarkSentIsOneUnit) {
    auto send = [&](const PaymentRequest& r) { return run(*ledger, [&](Tx& tx) { return tx.begin_and_mark_sent(r); }); };
    auto a = send(request("O-1", "O-1/1", 700, Tender::commitment_card, ""));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_TRUE(a->created);
    EXPECT_EQ(a->payment.state, PaymentState::sent);
    // The same key again: that payment, unchanged, nothing written.
    const auto events = event_count();
    auto again = send(request("O-1", "O-1/1", 700, Tender::commitment_card, ""));
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->created);
    EXPECT_EQ(again->payment.id, a->payment.id);
    EXPECT_EQ(event_count(), events);
    // Terminal busy at mark_sent: the whole unit rolls back, no `requested` payment is left.
    sent_payment("O-2", "O-2/1", "T1");
    auto busy = send(request("O-3", "O-3/1", 500, Tender::card, "T1"));
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().code, Errc::terminal_busy);
    EXPECT_FALSE(ledger->reader()->by_request_key("O-3/1"));
}

TEST_P(LedgerContract, PendingRecoveryListsRequestedSentAndUnknownOfThatTerminal) {
    auto a = sent_payment("O-1", "O-1/1", "T1");
    ASSERT_TRUE(unknown(a));
    auto b = sent_payment("O-2", "O-2/1", "T1");
    auto c = begin(request("O-3", "O-3/1", 1, Tender::card, "T1"));
    ASSERT_TRUE(c);
    sent_payment("O-4", "O-4/1", "T2");
    auto d = sent_payment("O-5", "O-5/1", "T3");
    ASSERT_TRUE(result(d, PaymentState::approved));
    auto p = ledger->reader()->pending_recovery("T1");
    ASSERT_TRUE(p);
    ASSERT_EQ(p->size(), 3u);
    EXPECT_EQ((*p)[0].id, a);
    EXPECT_EQ((*p)[1].id, b);
    EXPECT_EQ((*p)[2].id, c->payment.id);
    EXPECT_TRUE(ledger->reader()->pending_recovery("T3")->empty());
}

TEST_P(LedgerContract, RecoveryTurnsUnknownIntoTheTerminalsOutcome) {
    auto id = sent_payment("O-1", "O-1/1");
    ASSERT_TRUE(unknown(id));
    EXPECT_EQ(ledger->reader()->payment(id)->reason, "link lost");
    auto p = result(id, PaymentState::approved);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state, PaymentState::approved);
    EXPECT_TRUE(ledger->reader()->interim()->empty());
}

TEST_P(LedgerContract, InterimLifecycle) {
    setup_operators();
    auto a = sent_payment("O-1", "O-1/1", "T1");
    TerminalData abort_data;
    abort_data.text = "customer abort";
    abort_data.result_code = 0x6c;
    ASSERT_TRUE(result(a, PaymentState::aborted, abort_data));
    auto u = sent_payment("O-2", "O-2/1", "T1");
    ASSERT_TRUE(unknown(u));
    auto ok = sent_payment("O-3", "O-3/1", "T1");
    ASSERT_TRUE(result(ok, PaymentState::approved));

    auto interim = ledger->reader()->interim();
    ASSERT_TRUE(interim);
    ASSERT_EQ(interim->size(), 2u);
    EXPECT_EQ((*interim)[0].id, a);
    EXPECT_EQ((*interim)[0].reason, "customer abort");
    EXPECT_EQ((*interim)[1].id, u);
    EXPECT_EQ((*interim)[1].reason, "link lost");

    // A cashier may not resolve; a reason is required.
    auto denied = run(*ledger, [&](Tx& tx) { return tx.resolve(a, Resolution{ResolutionKind::paid_otherwise, "anna", "cash"}); });
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, Errc::permission_denied);
    auto no_why = run(*ledger, [&](Tx& tx) { return tx.resolve(a, Resolution{ResolutionKind::paid_otherwise, "boss", ""}); });
    EXPECT_EQ(no_why.error().code, Errc::invalid_argument);

    clock.now->fetch_add(3'600'000);
    auto r = run(*ledger, [&](Tx& tx) { return tx.resolve(a, Resolution{ResolutionKind::paid_otherwise, "boss", "paid cash at K2"}); });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->state, PaymentState::resolved);
    ASSERT_TRUE(r->resolution);
    EXPECT_EQ(r->resolution->operator_id, "boss");
    EXPECT_EQ(r->resolution->why, "paid cash at K2");
    EXPECT_EQ(r->updated_utc_ms - r->created_utc_ms, 3'600'000);
    auto w = run(*ledger, [&](Tx& tx) { return tx.resolve(u, Resolution{ResolutionKind::written_off, "boss", "customer gone"}); });
    ASSERT_TRUE(w);
    EXPECT_TRUE(ledger->reader()->interim()->empty());
    auto again = run(*ledger, [&](Tx& tx) { return tx.resolve(a, Resolution{ResolutionKind::retried, "boss", "again"}); });
    EXPECT_EQ(again.error().code, Errc::invalid_transition);
    auto ev = ledger->reader()->events_of(a);
    EXPECT_EQ(ev->back().kind, "payment.resolved");
    EXPECT_NE(ev->back().body.find("paid cash at K2"), std::string::npos);
}

TEST_P(LedgerContract, ReversalAndRefundNeedTheRefundRight) {
    setup_operators();
    auto a = sent_payment("O-1", "O-1/1");
    ASSERT_TRUE(result(a, PaymentState::approved));
    auto denied = run(*ledger, [&](Tx& tx) { return tx.mark_reversed(a, "anna", visa_data(43)); });
    EXPECT_EQ(denied.error().code, Errc::permission_denied);
    auto r = run(*ledger, [&](Tx& tx) { return tx.mark_reversed(a, "boss", visa_data(43)); });
    ASSERT_TRUE(r);
    EXPECT_EQ(r->state, PaymentState::reversed);
    EXPECT_EQ(r->terminal.trace, 42u);  // the approval's data stays; the reversal's is in its event
    EXPECT_EQ(run(*ledger, [&](Tx& tx) { return tx.mark_refunded(a, "boss", visa_data(44)); }).error().code,
              Errc::invalid_transition);
}

TEST_P(LedgerContract, OperatorsRolesAndRights) {
    // Nobody administers yet: the first changes are the bootstrap.
    setup_operators();
    EXPECT_TRUE(ledger->reader()->may("anna", Right::take_card));
    EXPECT_FALSE(ledger->reader()->may("anna", Right::take_cash));
    EXPECT_TRUE(ledger->reader()->may("boss", Right::administer));
    EXPECT_FALSE(ledger->reader()->may("nobody", Right::take_card));
    // Now administering needs the right.
    auto denied = run_status(*ledger, [](Tx& tx) { return tx.put_operator("anna", Operator{"eve", "Eve", {"admin"}, true}); });
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, Errc::permission_denied);
    auto missing_role = run_status(*ledger, [](Tx& tx) { return tx.put_operator("boss", Operator{"eve", "Eve", {"nope"}, true}); });
    EXPECT_EQ(missing_role.error().code, Errc::not_found);
    // Cash needs take_cash once operators exist.
    auto cash = begin(request("O-9", "O-9/1", 100, Tender::cash, ""));
    ASSERT_FALSE(cash);
    EXPECT_EQ(cash.error().code, Errc::permission_denied);
    const auto before = event_count();
    ASSERT_TRUE(run_status(*ledger, [](Tx& tx) { return tx.put_operator("boss", Operator{"anna", "Anna", {"cashier"}, false}); }));
    EXPECT_EQ(event_count(), before + 1);
    EXPECT_FALSE(ledger->reader()->may("anna", Right::take_card));
    auto op = ledger->reader()->get_operator("anna");
    ASSERT_TRUE(op);
    EXPECT_FALSE(op->active);
    EXPECT_EQ(op->roles, std::vector<std::string>{"cashier"});
    EXPECT_EQ(ledger->reader()->operators()->size(), 2u);
    EXPECT_EQ(ledger->reader()->roles()->size(), 2u);
}

TEST_P(LedgerContract, IssuerFromBinRangesThenBrand) {
    IssuerConfig c = default_issuers();
    c.issuers.push_back(Issuer{"own_volvo", "Volvo Card", "1581", {}});
    c.issuers.push_back(Issuer{"corporate", "Corporate Visa", "1582", {}});
    c.bin_ranges.push_back(BinRange{"5", "5", "mastercard"});
    c.bin_ranges.push_back(BinRange{"222100", "272099", "mastercard"});
    c.bin_ranges.push_back(BinRange{"541234", "541234", "own_volvo"});  // own card on a Mastercard rail
    c.bin_ranges.push_back(BinRange{"4000", "4999", "corporate"});
    c.bin_ranges.push_back(BinRange{"4100", "4199", "visa"});
    ASSERT_TRUE(run_status(*ledger, [&](Tx& tx) { return tx.set_issuers(c); }));
    auto r = ledger->reader();
    auto pan = [](const char* d) { return *MaskedPan::from_digits(d); };
    EXPECT_EQ(r->resolve_issuer(CardBrand::mastercard, pan("5412349999990001"))->id, "own_volvo");
    EXPECT_EQ(r->resolve_issuer(CardBrand::mastercard, pan("5412359999990001"))->id, "mastercard");
    EXPECT_EQ(r->resolve_issuer(CardBrand::unknown, pan("2223009999990001"))->id, "mastercard");
    EXPECT_EQ(r->resolve_issuer(CardBrand::visa, pan("4111111111111111"))->id, "visa");       // narrower range
    EXPECT_EQ(r->resolve_issuer(CardBrand::visa, pan("4211111111111111"))->id, "corporate");  // BIN beats brand
    EXPECT_EQ(r->resolve_issuer(CardBrand::amex, MaskedPan{})->id, "amex");
    EXPECT_EQ(r->resolve_issuer(CardBrand::diners, pan("3600000000000004"))->account, "1580");
    auto none = r->resolve_issuer(CardBrand::jcb, pan("3530111333300000"));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, Errc::not_found);
}

TEST_P(LedgerContract, IssuerConfigIsJournaledOnlyWhenItChanges) {
    ASSERT_TRUE(run_status(*ledger, [](Tx& tx) { return tx.set_issuers(default_issuers()); }));
    const auto n = event_count();
    ASSERT_TRUE(run_status(*ledger, [](Tx& tx) { return tx.set_issuers(default_issuers()); }));
    EXPECT_EQ(event_count(), n);
    IssuerConfig bad = default_issuers();
    bad.bin_ranges.push_back(BinRange{"5", "41", "visa"});
    EXPECT_EQ(run_status(*ledger, [&](Tx& tx) { return tx.set_issuers(bad); }).error().code, Errc::invalid_argument);
    EXPECT_EQ(ledger->reader()->issuers()->issuers.size(), 4u);
}

TEST_P(LedgerContract, HistoryFilters) {
    ASSERT_TRUE(run_status(*ledger, [](Tx& tx) { return tx.set_issuers(default_issuers()); }));
    for (int i = 0; i < 6; ++i) {
        auto r = request("O-" + std::to_string(i), "k" + std::to_string(i), 100 + i, Tender::card, i % 2 ? "T1" : "T2");
        r.business_date = i < 3 ? "2026-11-22" : "2026-11-23";
        r.register_id = i < 4 ? "K1" : "K2";
        auto b = begin(r);
        ASSERT_TRUE(b);
        ASSERT_TRUE(sent(b->payment.id));
        TerminalData d = visa_data();
        if (i == 5) {
            d.brand = CardBrand::amex;
            d.pan = MaskedPan{};
        }
        ASSERT_TRUE(result(b->payment.id, i == 2 ? PaymentState::declined : PaymentState::approved, d));
    }
    auto h = [&](HistoryFilter f) { return ledger->reader()->history(f)->size(); };
    auto with = [](auto set) {
        HistoryFilter f;
        set(f);
        return f;
    };
    EXPECT_EQ(h({}), 6u);
    EXPECT_EQ(h(with([](auto& f) { f.date_from = "2026-11-23"; })), 3u);
    EXPECT_EQ(h(with([](auto& f) { f.date_from = f.date_to = "2026-11-22"; })), 3u);
    EXPECT_EQ(h(with([](auto& f) { f.register_id = "K2"; })), 2u);
    EXPECT_EQ(h(with([](auto& f) { f.terminal_id = "T1"; })), 3u);
    EXPECT_EQ(h(with([](auto& f) { f.issuer_id = "amex"; })), 1u);
    EXPECT_EQ(h(with([](auto& f) { f.state = PaymentState::declined; })), 1u);
    EXPECT_EQ(h(with([](auto& f) { f.order_id = "O-4"; })), 1u);
    EXPECT_EQ(h(with([](auto& f) { f.operator_id = "bob"; })), 0u);
    HistoryFilter page;
    page.limit = 4;
    auto first = ledger->reader()->history(page);
    ASSERT_EQ(first->size(), 4u);
    page.after = first->back().id;
    EXPECT_EQ(ledger->reader()->history(page)->size(), 2u);
}

TEST_P(LedgerContract, ConcurrentSubmissionsAllCompleteAndARefusedOneLeavesNoTrace) {
    constexpr int kThreads = 4, kEach = 25;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            std::vector<std::future<Result<Begun>>> fs;
            for (int i = 0; i < kEach; ++i) {
                auto r = request("O-" + std::to_string(t) + "-" + std::to_string(i), "k" + std::to_string(t * 100 + i));
                fs.push_back(ledger->submit<Begun>([r](Tx& tx) { return tx.begin_payment(r); }));
            }
            for (auto& f : fs)
                if (f.get()) ++ok;
        });
    // A unit of work that writes and then fails is rolled back on its own.
    auto failing = ledger->submit<Begun>([](Tx& tx) -> Result<Begun> {
        auto b = tx.begin_payment(request("O-bad", "bad"));
        if (!b) return b;
        return pb::unexpected(Error{Errc::invalid_argument, "changed my mind"});
    });
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), kThreads * kEach);
    EXPECT_FALSE(failing.get());
    EXPECT_FALSE(ledger->reader()->by_request_key("bad"));
    EXPECT_EQ(ledger->reader()->history({})->size(), static_cast<std::size_t>(kThreads * kEach));
    auto v = ledger->reader()->verify();
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok) << v->problem;
}

TEST_P(LedgerContract, CallbackCompletionRunsAfterCommit) {
    std::promise<Result<Begun>> p;
    ledger->submit<Begun>([](Tx& tx) { return tx.begin_payment(request("O-1", "k1")); },
                          [&](Result<Begun> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    ASSERT_TRUE(r);
    EXPECT_TRUE(ledger->reader()->payment(r->payment.id));  // visible once completed
}

TEST_P(LedgerContract, VerifyPassesOnAMixedJournal) {
    setup_operators();
    auto a = sent_payment("O-1", "k1");
    ASSERT_TRUE(result(a, PaymentState::approved));
    auto b = sent_payment("O-2", "k2");
    ASSERT_TRUE(unknown(b));
    ASSERT_TRUE(run(*ledger, [&](Tx& tx) { return tx.resolve(b, Resolution{ResolutionKind::retried, "boss", "new attempt"}); }));
    ASSERT_TRUE(run(*ledger, [&](Tx& tx) { return tx.append_event("cash.count", "K1", R"({"counted":100})"); }));
    auto v = ledger->reader()->verify();
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok) << v->problem;
    EXPECT_EQ(v->events_checked, event_count());
    EXPECT_GT(v->events_checked, 8);
    EXPECT_EQ(run(*ledger, [&](Tx& tx) { return tx.append_event("payment.approved", "1", "{}"); }).error().code,
              Errc::invalid_argument);
}

TEST_P(LedgerContract, InvalidRequestsAreRefused) {
    auto r = request("O-1", "k1");
    r.business_date = "23.11.2026";
    EXPECT_EQ(begin(r).error().code, Errc::invalid_argument);
    r = request("O-1", "k1", 0);
    EXPECT_EQ(begin(r).error().code, Errc::invalid_argument);
    r = request("", "k1");
    EXPECT_EQ(begin(r).error().code, Errc::invalid_argument);
    r = request("O-1", "k1", 10, Tender::card, "");
    EXPECT_EQ(begin(r).error().code, Errc::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerContract, ::testing::Values(Storage::temporary, Storage::memory),
                         [](const ::testing::TestParamInfo<Storage>& p) {
                             return p.param == Storage::memory ? "memory" : "temporary_file";
                         });

TEST(LedgerFile, NoFullCardNumberReachesTheFile) {
    TempDir dir;
    const std::string path = dir.file("ledger.db");
    {
        auto l = Ledger::open(file_options(path));
        ASSERT_TRUE(l);
        auto& ledger = **l;
        auto b = run(ledger, [](Tx& tx) { return tx.begin_payment(request("O-1", "k1")); });
        ASSERT_TRUE(b);
        ASSERT_TRUE(run(ledger, [&](Tx& tx) { return tx.mark_sent(b->payment.id); }));
        TerminalData d = visa_data();
        d.pan = *MaskedPan::from_digits("4921818425002311");  // a full PAN as a terminal might send
        ASSERT_TRUE(run(ledger, [&](Tx& tx) { return tx.record_result(b->payment.id, PaymentState::approved, d); }));
    }
    for (const char* suffix : {"", "-wal"}) {
        std::ifstream f(path + suffix, std::ios::binary);
        std::stringstream all;
        all << f.rdbuf();
        EXPECT_EQ(all.str().find("4921818425002311"), std::string::npos);
        EXPECT_EQ(all.str().find("49218184250"), std::string::npos);
    }
}

TEST(LedgerFile, TemporaryStorageIsRemovedOnClose) {
    std::string path;
    {
        auto l = Ledger::open([] { Options o; o.storage = Storage::temporary; return o; }());
        ASSERT_TRUE(l);
        path = (*l)->path();
        EXPECT_TRUE(std::filesystem::exists(path));
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace pb::ledger
