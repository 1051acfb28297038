// The dashboard and /metrics served by the real paybridged (design.md §6, issue 5), and the
// business date taken from [ledger] timezone and day_starts_at rather than the machine's zone.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <regex>

#include <boost/json/parse.hpp>

#include "tests/integration/daemon_fixture.hpp"

namespace pb::daemontest {
namespace {

/// The business date the daemon must stamp now for a fixed UTC offset and a day start.
std::string expected_business_date(int offset_minutes, int starts_at_minutes) {
    std::time_t t = std::time(nullptr) + (offset_minutes - starts_at_minutes) * 60;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

class DaemonDashboardTest : public DaemonTest {
protected:
    /// The test config with the dashboard on a free port and a shop 13 hours east of UTC
    /// whose day starts at 05:00 -- far from the machine's own zone, so a business date
    /// taken from the machine's zone would differ most of the day.
    void start_with_dashboard() {
        sim = start_sim(dir);
        ASSERT_TRUE(sim->ready);
        t1.tcp_port = sim->tcp_port;
        auto toml = daemon_config(dir, {t1});
        auto replace = [&](const std::string& from, const std::string& to) {
            auto at = toml.find(from);
            ASSERT_NE(at, std::string::npos) << from;
            toml.replace(at, from.size(), to);
        };
        ASSERT_NO_FATAL_FAILURE(replace("[http]\nenabled = false", "[http]\nenabled = true\nlisten = \"127.0.0.1:0\""));
        ASSERT_NO_FATAL_FAILURE(replace("timezone = \"UTC\"", "timezone = \"+13:00\"\nday_starts_at = \"05:00\""));
        daemon = std::make_unique<DaemonProcess>(dir, toml);
        ASSERT_FALSE(daemon->router.empty());
        ASSERT_TRUE(daemon->wait_log("PB_DASHBOARD", 5s));
        std::smatch m;
        auto log = daemon->log();
        ASSERT_TRUE(std::regex_search(log, m, std::regex("PB_DASHBOARD: .*http://127\\.0\\.0\\.1:([0-9]+)/"))) << log;
        port = static_cast<std::uint16_t>(std::stoi(m[1]));
        connect();
        ASSERT_TRUE(erp->wait_online("T1"));
    }
    std::uint16_t port = 0;
};

TEST_F(DaemonDashboardTest, StatusShowsTakingsOfTheConfiguredBusinessDayAndMetricsCountThePayment) {
    ASSERT_NO_FATAL_FAILURE(start_with_dashboard());
    auto before = expected_business_date(13 * 60, 5 * 60);
    auto result = pay("O-700", 70000);
    ASSERT_EQ(str(result, "state"), "approved") << dump(result);
    auto after = expected_business_date(13 * 60, 5 * 60);

    auto status = http_get(port, "/api/status");
    ASSERT_EQ(status.status, 200) << status.body;
    auto snap = boost::json::parse(status.body).as_object();
    auto date = str(snap, "business_date");
    EXPECT_TRUE(date == before || date == after) << "business date " << date << ", expected " << after;
    auto& totals = snap["takings_totals"].as_array();
    ASSERT_EQ(totals.size(), 1u) << status.body;
    EXPECT_EQ(num(totals[0].as_object(), "amount_minor"), 70000) << status.body;
    EXPECT_EQ(num(totals[0].as_object(), "count"), 1) << status.body;
    auto& terminals = snap["terminals"].as_array();
    ASSERT_EQ(terminals.size(), 1u) << status.body;
    EXPECT_EQ(str(terminals[0].as_object(), "terminal"), "T1") << status.body;
    EXPECT_EQ(terminals[0].as_object().at("online"), json::value(true)) << status.body;

    auto metrics = http_get(port, "/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("paybridge_payments_total{state=\"approved\",terminal=\"T1\"} 1\n"), std::string::npos)
        << metrics.body;
    EXPECT_NE(metrics.body.find("paybridge_terminal_online{terminal=\"T1\"} 1\n"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("paybridge_erp_replies_total{result=\"ok\"}"), std::string::npos) << metrics.body;

    auto page = http_get(port, "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find(date), std::string::npos) << "the page shows the business date";
    EXPECT_NE(page.body.find("700.00"), std::string::npos) << "the page shows the takings";
    EXPECT_EQ(http_get(port, "/healthz").status, 200);
    EXPECT_EQ(http_get(port, "/nothing-here").status, 404);
}

TEST_F(DaemonDashboardTest, ADashboardPortInUseIsAStartFailure) {
    // Hold a port, then ask the daemon for it.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    const auto taken = ntohs(a.sin_port);

    t1.tcp_port = 9;  // never reached: the daemon must not get that far
    auto toml = daemon_config(dir, {t1});
    auto at = toml.find("[http]\nenabled = false");
    ASSERT_NE(at, std::string::npos);
    toml.replace(at, 22, "[http]\nenabled = true\nlisten = \"127.0.0.1:" + std::to_string(taken) + "\"");
    std::ofstream(dir.file("busy.toml")) << toml;
    std::string out;
    FILE* p = ::popen((std::string(PB_PAYBRIDGED_BINARY) + " --config " + dir.file("busy.toml") + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int rc = ::pclose(p);
    ::close(fd);
    EXPECT_EQ(WEXITSTATUS(rc), 1) << out;
    EXPECT_NE(out.find("PB_START_FAILED"), std::string::npos) << out;
    EXPECT_NE(out.find(std::to_string(taken)), std::string::npos) << "the error names the address: " << out;
    EXPECT_EQ(out.find("PB_STARTED"), std::string::npos) << "never announced ready: " << out;
}

}  // namespace
}  // namespace pb::daemontest
