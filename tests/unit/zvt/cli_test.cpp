// `paybridge zvt decode|encode` run as a process, the way a technician uses it.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <boost/json.hpp>

namespace {

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

TEST(ZvtCli, DecodesRealEndOfDayCapture) {
    // EVerest/zvt Feig capture (tests/data/zvt/golden.hex status_information_eod_feig).
    const auto r = paybridge(
        "zvt decode '04 0F 4D 27 00 04 00 00 00 00 09 58 0B 00 09 82 0D 04 06 0C 08 17 06 60 F0 F5 F3 02 33 02 34 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 00 09 58 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto v = boost::json::parse(r.out).as_object();
    EXPECT_EQ(v.at("command"), "status_information");
    const auto& f = v.at("fields").as_object();
    EXPECT_EQ(f.at("amount").at("minor"), 958);
    EXPECT_EQ(f.at("result_code").at("text"), "no error");
    EXPECT_EQ(f.at("totals").at("mastercard").at("count"), 2);
    EXPECT_EQ(f.at("totals").at("receipt_from"), 233);
}

TEST(ZvtCli, DecodesSerialFrameAndStatusEnquiryReply) {
    const auto r = paybridge(
        "zvt decode --serial --reply-to status_enquiry '10 02 06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00 10 03 B1 11'");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto v = boost::json::parse(r.out).as_object();
    EXPECT_EQ(v.at("crc"), "ok");
    EXPECT_EQ(v.at("sw_version"), "2.14.15");
    EXPECT_EQ(v.at("status_text"), "PT ready");
}

TEST(ZvtCli, ReportsCrcMismatch) {
    const auto r = paybridge(
        "zvt decode --serial '10 02 06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00 10 03 B1 12'");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("frame_crc_mismatch"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("expected 11b1, got 12b1"), std::string::npos) << r.out;
}

TEST(ZvtCli, BadHexFailsClearly) {
    const auto r = paybridge("zvt decode '04 0F 0'");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.out.find("is not hex"), std::string::npos) << r.out;
}

TEST(ZvtCli, EncodeThenDecode) {
    const auto e = paybridge(
        R"(zvt encode '{"command":"authorisation","fields":{"amount":{"minor":1234},"currency":978,"tlv":[{"tag":"1f1f","value":""}]}}')");
    ASSERT_EQ(e.status, 0) << e.out;
    EXPECT_EQ(e.out, "06 01 0f 04 00 00 00 00 12 34 49 09 78 06 03 1f 1f 00\n");
    const auto s = paybridge(R"(zvt encode --serial '{"command":"positive_ack"}')");
    EXPECT_EQ(s.out, "10 02 80 00 00 10 03 f5 1f\n");
    const auto bad = paybridge(R"(zvt encode '{"command":"authorisation","fields":{"amount":"x"}}')");
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.out.find("key 'amount'"), std::string::npos) << bad.out;
}

}  // namespace
