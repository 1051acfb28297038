// Bad input from the ERP against the real daemon: each gets its documented error
// (protocol/erp/README.md §6) and changes nothing -- no payment, no order, nothing sent to the
// terminal -- and the daemon keeps serving.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/integration/daemon_fixture.hpp"

namespace pb::daemontest {
namespace {

struct BadCase {
    const char* what;
    std::string frame;
    int code;
    const char* field;  // "" = not checked
    bool id_readable;   // the reply echoes our id
};

// `base` with changes, under an order of its own so that one case the daemon wrongly
// accepts cannot make the next cases' "nothing changed" checks fail.
std::string with(json::object base, std::initializer_list<std::pair<const char*, json::value>> changes,
                 std::initializer_list<const char*> removed = {}) {
    static int n = 0;
    std::string order = "O-BAD-" + std::to_string(++n);
    base["order_id"] = order;
    base["request_key"] = order + "#1";
    for (auto& [k, v] : changes) base[k] = v;
    for (auto* k : removed) base.erase(k);
    return json::serialize(base);
}

TEST_F(DaemonTest, BadInputGetsItsDocumentedErrorAndChangesNothing) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    json::object good = payment_start("O-BAD", 12500);
    good["v"] = 1;
    good["id"] = "bad-1";

    std::string deep = R"({"v":1,"id":"bad-1","type":"payment.start","lines":)";
    for (int i = 0; i < 40; ++i) deep += "[";
    for (int i = 0; i < 40; ++i) deep += "]";
    deep += "}";
    std::string huge = with(good, {{"note", json::string(70000, 'x')}});
    // Between max_message_bytes (65536 in the test config) and the front's hard cap
    // (4 x max + 4 KiB, daemon/erp_front.cpp) a request is answered with 1007.
    std::string very_huge(200000, ' ');
    very_huge.replace(0, 2, "{}");

    const std::vector<BadCase> cases = {
        {"not JSON", "{\"v\": 1, \"id\": \"bad-1\", ", 1000, "", false},
        {"invalid UTF-8", "{\"v\":1,\"id\":\"bad-1\",\"type\":\"ping\",\"x\":\"\xff\"}", 1000, "", false},
        {"not an object", "[1, 2]", 1001, "", false},
        {"version 2", with(good, {{"v", 2}}), 1002, "/v", true},
        {"unknown type", with(good, {{"type", "payment.teleport"}}), 1003, "/type", true},
        {"missing terminal", with(good, {}, {"terminal"}), 1004, "/terminal", true},
        {"missing request key", with(good, {}, {"request_key"}), 1004, "/request_key", true},
        {"total as a string", with(good, {{"total", "12500"}}), 1005, "/total", true},
        {"total not an integer", with(good, {{"total", 125.5}}), 1005, "/total", true},
        {"lines not an array", with(good, {{"lines", "oil"}}), 1005, "/lines", true},
        {"id with a control char", with(good, {{"order_id", "O-\x01"}}), 1006, "/order_id", true},
        {"misspelt field", with(good, {{"ammount", 12500}}), 1010, "/ammount", true},
        {"lines not summing to total",
         with(good, {{"lines", json::array{json::object{{"text", "x"}, {"qty", 1}, {"unit_price", 100}}}}}), 1009,
         "/total", true},
        {"too large", huge, 1007, "", false},
        {"far too large", very_huge, 1007, "", false},
        {"nested too deep", deep, 1007, "", false},
        {"unknown currency", with(good, {{"currency", "XXX"}}), 1008, "/currency", true},
        {"zero amount", with(good, {{"total", 0}}), 2007, "/total", true},
        {"negative amount", with(good, {{"total", -100}}), 2007, "/total", true},
        {"amount above 12 digits", with(good, {{"total", 1000000000000}}), 2007, "/total", true},
        {"unknown terminal", with(good, {{"terminal", "T9"}}), 2000, "/terminal", true},
        {"other currency than the terminal's", with(good, {{"currency", "EUR"}}), 2008, "/currency", true},
        {"get of an unknown payment", R"({"v":1,"id":"bad-1","type":"payment.get","payment_id":"p-999999"})", 2005,
         "/payment_id", true},
        {"both ids of an exactly-one pair",
         R"({"v":1,"id":"bad-1","type":"payment.get","payment_id":"p-1","request_key":"k"})", 1006, "", true},
    };

    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        auto reply = erp->request_raw(c.frame, "bad-1");
        auto e = expect_error(reply, c.code, c.field);
        EXPECT_FALSE(str(e, "name").empty()) << dump(reply);
        EXPECT_FALSE(str(e, "message").empty()) << dump(reply);
        if (c.id_readable) {
            EXPECT_EQ(str(reply, "id"), "bad-1") << dump(reply);
        } else if (c.code == 1000 || c.code == 1001) {
            EXPECT_TRUE(reply.contains("id") && reply.at("id").is_null()) << dump(reply);
        }
        // Nothing changed: no payment under the key, no order.
        std::string order = "O-BAD";
        try {
            auto sent = json::parse(c.frame);
            if (sent.is_object() && sent.as_object().contains("order_id") &&
                sent.as_object().at("order_id").is_string())
                order = std::string(sent.as_object().at("order_id").as_string());
        } catch (const std::exception&) {
        }
        if (order.find('\x01') != std::string::npos) order = "O-BAD";  // the case is the bad id itself
        expect_error(erp->request({{"type", "payment.get"}, {"request_key", order + "#1"}}), 2005);
        expect_error(erp->request({{"type", "order.get"}, {"order_id", order}}), 2009);
        if (reply.empty()) break;  // no reply at all: the rest would only pile up timeouts
    }

    // Nothing reached the terminal, no event was published about the order, and the daemon
    // still pays the same order when asked properly.
    for (auto& r : sim->journal()) {
        auto ev = str(r, "event");
        EXPECT_TRUE(ev == "started" || ev == "registered" || ev == "diagnosis" || ev == "repeat_receipt")
            << "terminal was asked to do something: " << dump(r);
    }
    for (const auto& e : erp->events())
        EXPECT_NE(str(e.body, "order_id").rfind("O-BAD", 0), 0u) << "event about a refused request: " << dump(e.body);
    // Above the hard cap libzmq drops the connection instead (no reply): the daemon must
    // survive it and serve the reconnected client.
    {
        zmq::context_t ctx(1);
        zmq::socket_t rogue(ctx, zmq::socket_type::dealer);
        rogue.set(zmq::sockopt::linger, 0);
        rogue.connect(daemon->router);
        std::string flood(1 << 20, 'x');
        rogue.send(zmq::buffer(flood), zmq::send_flags::none);
        rogue.set(zmq::sockopt::rcvtimeo, 300);
        zmq::message_t m;
        (void)rogue.recv(m);  // an error reply or nothing; either way the daemon lives on
    }
    EXPECT_EQ(erp->request({{"type", "ping"}})["ok"], json::value(true));
    auto result = pay("O-BAD", 12600);
    EXPECT_EQ(str(result, "state"), "approved") << dump(result);
    EXPECT_EQ(journal_count(*sim, "approved", 12600), 1u);
}

TEST_F(DaemonTest, UnknownOperatorAndUnknownRegisterAreRefusedBeforeAnythingIsSent) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    auto who = payment_start("O-BAD-OP", 13100);
    who["operator"] = "mallory";
    expect_error(erp->request(who), 2011, "/operator");
    auto where = payment_start("O-BAD-REG", 13200);
    where["register"] = "K9";
    auto r = erp->request(where);
    expect_error(r, 2010, "/register");
    if (r["ok"] == json::value(true)) {  // wrongly accepted: let it finish before the checks below
        erp->wait_result(str(r["result"].as_object(), "payment_id"));
    }
    expect_error(erp->request({{"type", "order.get"}, {"order_id", "O-BAD-OP"}}), 2009);
    expect_error(erp->request({{"type", "order.get"}, {"order_id", "O-BAD-REG"}}), 2009);
    EXPECT_EQ(journal_count(*sim, "approved", 13100), 0u);
    EXPECT_EQ(journal_count(*sim, "approved", 13200), 0u) << "a payment for an unknown register was charged";
}

TEST_F(DaemonTest, ADealerWithoutTheEmptyDelimiterAndAReqClientAreBothServed) {
    ASSERT_NO_FATAL_FAILURE(start_tcp());
    // README §1: [json] alone from a DEALER is answered as [json]; REQ adds the delimiter.
    zmq::context_t ctx(1);
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::rcvtimeo, 5000);
    dealer.connect(daemon->router);
    dealer.send(zmq::str_buffer(R"({"v":1,"id":"bare","type":"ping"})"), zmq::send_flags::none);
    zmq::message_t m;
    ASSERT_TRUE(dealer.recv(m));
    EXPECT_FALSE(m.more()) << "a bare request gets a bare reply";
    EXPECT_NE(m.to_string().find("\"bare\""), std::string::npos) << m.to_string();

    zmq::socket_t req(ctx, zmq::socket_type::req);
    req.set(zmq::sockopt::linger, 0);
    req.set(zmq::sockopt::rcvtimeo, 5000);
    req.connect(daemon->router);
    req.send(zmq::str_buffer(R"({"v":1,"id":"viareq","type":"hello","client":"itest"})"), zmq::send_flags::none);
    ASSERT_TRUE(req.recv(m));
    auto reply = json::parse(m.to_string()).as_object();
    EXPECT_EQ(reply["ok"], json::value(true)) << m.to_string();
    EXPECT_EQ(str(reply["result"].as_object(), "server"), "paybridged");
}

}  // namespace
}  // namespace pb::daemontest
