// protocol/upstream/README.md is the contract with the upstream services: every tagged json
// example must parse with the codec that names it and encode back to the same JSON value.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>

#include <boost/json.hpp>

#include "protocol/upstream/benefit.hpp"
#include "protocol/upstream/commitment.hpp"
#include "protocol/upstream/ereceipt.hpp"

namespace pb::upstream {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

const fs::path kReadme = fs::path(PB_TEST_DATA_DIR) / ".." / ".." / "protocol" / "upstream" / "README.md";

std::map<std::string, std::string> examples() {
    std::ifstream in(kReadme, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::map<std::string, std::string> out;
    std::regex fence(R"(<!-- example: ([A-Za-z0-9_.]+) -->\n```json\n([\s\S]*?)```)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), fence); it != std::sregex_iterator(); ++it)
        out[(*it)[1].str()] = (*it)[2].str();
    return out;
}

template <class T>
void round_trip(const std::string& body, const Decoded<T>& decoded) {
    ASSERT_TRUE(decoded) << decoded.error().to_string();
    EXPECT_EQ(json::parse(encode(*decoded)), json::parse(body));
}

TEST(UpstreamReadme, EveryExampleParsesAndEncodesBack) {
    auto ex = examples();
    const std::map<std::string, std::function<void(const std::string&)>> codecs{
        {"commitment.check.request", [](const std::string& b) { round_trip(b, parse_check_request(b)); }},
        {"commitment.check.reply", [](const std::string& b) { round_trip(b, parse_check_reply(b, 2)); }},
        {"commitment.debit.request", [](const std::string& b) { round_trip(b, parse_debit_request(b)); }},
        {"commitment.debit.reply", [](const std::string& b) { round_trip(b, parse_debit_reply(b)); }},
        {"commitment.receipt.request", [](const std::string& b) { round_trip(b, parse_receipt_request(b)); }},
        {"commitment.receipt.reply", [](const std::string& b) { round_trip(b, parse_receipt_reply(b)); }},
        {"commitment.void.request", [](const std::string& b) { round_trip(b, parse_void_request(b)); }},
        {"commitment.void.reply", [](const std::string& b) { round_trip(b, parse_void_reply(b)); }},
        {"benefit.verify.request", [](const std::string& b) { round_trip(b, parse_voucher_verify_request(b)); }},
        {"benefit.verify.reply", [](const std::string& b) { round_trip(b, parse_voucher_reply(b)); }},
        {"benefit.redeem.request", [](const std::string& b) { round_trip(b, parse_redeem_request(b)); }},
        {"benefit.redeem.reply", [](const std::string& b) { round_trip(b, parse_redeem_reply(b)); }},
        {"benefit.cancel.request", [](const std::string& b) { round_trip(b, parse_voucher_cancel_request(b)); }},
        {"benefit.cancel.reply", [](const std::string& b) { round_trip(b, parse_voucher_cancel_reply(b)); }},
        {"benefit.credit.request", [](const std::string& b) { round_trip(b, parse_credit_request(b)); }},
        {"benefit.credit.reply", [](const std::string& b) { round_trip(b, parse_credit_reply(b)); }},
        {"ereceipt.open.request", [](const std::string& b) { round_trip(b, parse_receipt_open(b)); }},
        {"ereceipt.ack", [](const std::string& b) { round_trip(b, parse_receipt_ack(b)); }},
        {"ereceipt.deliver.request", [](const std::string& b) { round_trip(b, parse_receipt_deliver(b)); }},
        {"ereceipt.deliver.email.request", [](const std::string& b) { round_trip(b, parse_receipt_deliver(b)); }},
        {"ereceipt.copy.request", [](const std::string& b) { round_trip(b, parse_receipt_copy(b)); }},
        {"error",
         [](const std::string& b) {
             ServiceError e = parse_service_error(422, b);
             EXPECT_EQ(e.code, "insufficient_balance");
             EXPECT_EQ(e.field, "/amount");
             EXPECT_EQ(json::parse(encode_service_error(e)), json::parse(b));
         }},
    };
    for (const auto& [name, check] : codecs) {
        SCOPED_TRACE(name);
        ASSERT_TRUE(ex.count(name)) << "README lacks the example " << name;
        check(ex[name]);
    }
    EXPECT_EQ(ex.size(), codecs.size()) << "an example in the README has no codec check";
}

}  // namespace
}  // namespace pb::upstream
