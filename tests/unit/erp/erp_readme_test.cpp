// protocol/erp/README.md is the contract: every fenced json block in it must be accepted by the
// codec, every message type must have an example, every error code must be documented, and
// tests/data/erp/ must hold exactly the README's examples.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <boost/json.hpp>

#include "protocol/erp/event.hpp"
#include "protocol/erp/reply.hpp"
#include "protocol/erp/request.hpp"
#include "protocol/erp/view.hpp"

namespace pb::erp {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

const fs::path kDataDir = fs::path(PB_TEST_DATA_DIR) / "erp";
const fs::path kReadme = fs::path(PB_TEST_DATA_DIR) / ".." / ".." / "protocol" / "erp" / "README.md";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Example {
    std::string name;  // from the <!-- example: NAME --> tag, empty if untagged
    std::string body;
};

std::vector<Example> readme_examples() {
    std::string text = slurp(kReadme);
    std::vector<Example> out;
    // Every ```json fence, with the tag line that precedes it (if any).
    std::regex fence(R"((?:<!-- example: ([A-Za-z0-9_.]+) -->\n)?```json\n([\s\S]*?)```)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), fence); it != std::sregex_iterator(); ++it)
        out.push_back({(*it)[1].str(), (*it)[2].str()});
    return out;
}

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

void check_reply_body(const std::string& name, const Reply& r) {
    SCOPED_TRACE(name);
    if (!r.ok) {
        // reply.error.<name>: the documented name matches the number.
        std::string expected = name.substr(std::string("reply.error.").size());
        EXPECT_EQ(error_name(r.error.code), expected);
        return;
    }
    std::string type = name.substr(std::string("reply.").size());
    EXPECT_EQ(r.type, type);
    auto each = [&](std::string_view key, auto parse) {
        ASSERT_TRUE(r.result.contains(key));
        for (const auto& v : r.result.at(key).as_array()) {
            auto parsed = parse(v.as_object());
            EXPECT_TRUE(parsed.has_value()) << parsed.error().to_string();
        }
    };
    if (type == "payment.start" || type == "payment.get" || type == "payment.cancel" || type == "cash.record" ||
        type == "payment.refund" || type == "payment.reverse") {
        auto p = payment_from_json(r.result);
        EXPECT_TRUE(p.has_value()) << p.error().to_string();
    } else if (type == "order.get") {
        auto o = order_from_json(r.result);
        ASSERT_TRUE(o.has_value()) << o.error().to_string();
        EXPECT_FALSE(o->payments.empty());
    } else if (type == "interim.list") {
        each("entries", [](const json::object& o) { return interim_entry_from_json(o); });
    } else if (type == "interim.resolve") {
        auto e = interim_entry_from_json(r.result);
        ASSERT_TRUE(e.has_value()) << e.error().to_string();
        EXPECT_FALSE(e->open);
    } else if (type == "terminal.status") {
        each("terminals", [](const json::object& o) { return terminal_from_json(o); });
    } else if (type == "cash.reconcile") {
        auto v = reconcile_from_json(r.result);
        ASSERT_TRUE(v.has_value()) << v.error().to_string();
        EXPECT_EQ(v->difference, v->counted - v->expected);
    } else if (type == "hello") {
        EXPECT_EQ(r.result.at("versions").as_array().at(0), 1);
    }
}

TEST(ErpReadme, EveryJsonBlockIsATaggedValidMessage) {
    auto examples = readme_examples();
    ASSERT_GE(examples.size(), 40u) << "README not found or not parsed: " << kReadme;
    std::set<std::string> names;
    for (const auto& ex : examples) {
        SCOPED_TRACE(ex.name + "\n" + ex.body);
        ASSERT_FALSE(ex.name.empty()) << "untagged json block in README";
        EXPECT_TRUE(names.insert(ex.name).second) << "duplicate example name " << ex.name;
        if (starts_with(ex.name, "request.")) {
            auto r = parse_request(ex.body);
            ASSERT_TRUE(r.has_value()) << r.error().to_string();
            EXPECT_TRUE(starts_with(ex.name, "request." + std::string(type_name(r->body))));
            auto again = parse_request(encode_request(*r));  // encode/parse round trip
            ASSERT_TRUE(again.has_value());
            EXPECT_EQ(*again, *r);
        } else if (starts_with(ex.name, "reply.")) {
            auto r = parse_reply(ex.body);
            ASSERT_TRUE(r.has_value()) << r.error().to_string();
            check_reply_body(ex.name, *r);
        } else if (starts_with(ex.name, "event.")) {
            auto e = parse_event(ex.body);
            ASSERT_TRUE(e.has_value()) << e.error().to_string();
            EXPECT_TRUE(starts_with(ex.name, "event." + std::string(type_name(e->body))));
            auto enc = encode_event(*e);
            auto again = parse_event(enc.payload);
            ASSERT_TRUE(again.has_value());
            EXPECT_EQ(*again, *e);
            // Same JSON as documented, modulo formatting and key order.
            EXPECT_EQ(json::parse(enc.payload), json::parse(ex.body));
        } else {
            ADD_FAILURE() << "example name must start with request., reply. or event.";
        }
    }
}

TEST(ErpReadme, EveryMessageTypeHasAnExample) {
    std::set<std::string> names;
    for (const auto& ex : readme_examples()) names.insert(ex.name);
    for (auto t : kRequestTypes)
        EXPECT_TRUE(names.count("request." + std::string(t))) << "no README example for request " << t;
    for (auto t : kEventTypes)
        EXPECT_TRUE(names.count("event." + std::string(t))) << "no README example for event " << t;
}

TEST(ErpReadme, EveryErrorCodeIsDocumented) {
    std::string text = slurp(kReadme);
    for (ErrorCode c : kAllErrorCodes) {
        std::string row = "| " + std::to_string(static_cast<int>(c)) + " | `" + std::string(error_name(c)) + "` |";
        EXPECT_NE(text.find(row), std::string::npos) << "README lacks the row " << row;
    }
}

TEST(ErpReadme, DataFilesAreTheReadmeExamples) {
    std::map<std::string, std::string> from_readme;
    for (const auto& ex : readme_examples()) from_readme[ex.name] = ex.body;
    std::set<std::string> files;
    for (const auto& entry : fs::directory_iterator(kDataDir)) {
        if (entry.path().extension() != ".json") continue;
        std::string name = entry.path().stem().string();
        files.insert(name);
        SCOPED_TRACE(entry.path().string());
        auto it = from_readme.find(name);
        ASSERT_NE(it, from_readme.end()) << "data file without README example";
        EXPECT_EQ(json::parse(slurp(entry.path())), json::parse(it->second));
    }
    for (const auto& [name, body] : from_readme) EXPECT_TRUE(files.count(name)) << "missing tests/data/erp/" << name << ".json";
}

TEST(ErpReadme, EveryRequestDataFileParsesToItsType) {
    int n = 0;
    for (const auto& entry : fs::directory_iterator(kDataDir)) {
        std::string name = entry.path().stem().string();
        if (!starts_with(name, "request.")) continue;
        auto r = parse_request(slurp(entry.path()));
        ASSERT_TRUE(r.has_value()) << name << ": " << r.error().to_string();
        EXPECT_EQ("request." + std::string(type_name(r->body)), name);
        ++n;
    }
    EXPECT_EQ(n, static_cast<int>(std::size(kRequestTypes)));
}

}  // namespace
}  // namespace pb::erp
