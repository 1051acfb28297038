#include "daemon/service.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>

#include "daemon/erp_front.hpp"
#include "daemon/metrics.hpp"
#include "tests/unit/daemon/notify_socket.hpp"

namespace pb::daemon {
namespace {

using namespace std::chrono_literals;

std::string config_text(int terminals) {
    std::string t = "[erp]\nrouter = \"tcp://127.0.0.1:*\"\npub = \"tcp://127.0.0.1:*\"\n"
                    "[ledger]\npath = \"/tmp/x.sqlite\"\n[log]\nlevel = \"warn\"\n";
    for (int i = 0; i < terminals; ++i)
        t += "[[terminal]]\nid = \"t" + std::to_string(i) +
             "\"\ntransport = \"tcp\"\nhost = \"127.0.0.1\"\npassword = \"000000\"\ncurrency = \"EUR\"\n"
             "register = \"r\"\n";
    return t;
}

class ServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = std::filesystem::temp_directory_path() / ("pb_service_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        path = (dir / "paybridged.toml").string();
        write(config_text(1));
        ASSERT_TRUE(notify.ok());
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    void write(const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

    Config load() {
        auto c = load_config(path);
        EXPECT_TRUE(c.has_value());
        return c ? *c : Config{};
    }

    /// Runs the loop until `done` (or it stops) with a 5 s deadline; no sleeping.
    bool run_until(const std::function<bool()>& done) {
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            io.restart();
            io.run_for(2ms);
        }
        return true;
    }

    /// Collects notify datagrams until one equals or starts with `prefix`.
    bool saw(const std::string& prefix) {
        while (auto m = notify.poll()) {
            messages.push_back(*m);
            if (m->rfind(prefix, 0) == 0) return true;
        }
        return false;
    }

    std::filesystem::path dir;
    std::string path;
    test::NotifySocket notify;
    boost::asio::io_context io;
    std::vector<std::string> messages;
};

TEST_F(ServiceTest, ReadyThenWatchdogKeepAlivesFromTheLoop) {
    ::setenv("WATCHDOG_USEC", "40000", 1);  // keep-alive every 20 ms
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    Service service(io, load());
    ASSERT_TRUE(service.start().has_value());
    ASSERT_TRUE(run_until([&] { return saw("READY=1"); }));
    EXPECT_NE(messages.back().find("STATUS=serving 1 terminals"), std::string::npos);
    int pings = 0;
    ASSERT_TRUE(run_until([&] { return saw("WATCHDOG=1") && ++pings == 3; }));
    EXPECT_EQ(service.metrics().expose().find("paybridge_watchdog_pings_total 0"), std::string::npos);
}

TEST_F(ServiceTest, SighupSwapsAValidConfigAndKeepsTheOldOnError) {
    Service service(io, load());
    std::vector<std::pair<std::size_t, std::size_t>> reloads;  // terminal counts old -> new
    service.on_reload([&](const Config& old_config, const Config& new_config) {
        reloads.emplace_back(old_config.terminals.size(), new_config.terminals.size());
    });
    ASSERT_TRUE(service.start().has_value());
    const std::string endpoint = service.erp().router_endpoint();

    write(config_text(2));
    ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
    ASSERT_TRUE(run_until([&] { return reloads.size() == 1; }));
    EXPECT_EQ(reloads[0], (std::pair<std::size_t, std::size_t>{1, 2}));
    EXPECT_EQ(service.config().terminals.size(), 2u);
    ASSERT_TRUE(run_until([&] { return saw("RELOADING=1"); }));
    ASSERT_TRUE(run_until([&] { return saw("READY=1"); }));

    write(config_text(3) + "[[terminal]]\nid = \"t0\"\n");  // duplicate id: invalid
    ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
    ASSERT_TRUE(run_until([&] { return service.metrics().expose().find("result=\"failed\"} 1") != std::string::npos; }));
    EXPECT_EQ(reloads.size(), 1u);
    EXPECT_EQ(service.config().terminals.size(), 2u);
    EXPECT_EQ(service.erp().router_endpoint(), endpoint);  // the front was never touched
}

TEST_F(ServiceTest, ReloadKeepsRestartOnlySectionsRunning) {
    Config first = load();
    first.erp.router_endpoint = "tcp://127.0.0.1:*";
    Service service(io, first);
    ASSERT_TRUE(service.start().has_value());
    write(config_text(1) + "[http]\nlisten = \"127.0.0.1:9999\"\n");
    ASSERT_TRUE(service.reload().has_value());
    EXPECT_EQ(service.config().http.listen_port, 7602);  // needs a restart
}

TEST_F(ServiceTest, SigtermLetsStopHooksFinishThenStops) {
    Service service(io, load());
    boost::asio::steady_timer later(io);
    std::chrono::steady_clock::time_point given_deadline{};
    bool refused_during_stop = false;
    service.on_stop([&](std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
        given_deadline = deadline;
        refused_during_stop = service.stopping();
        later.expires_after(10ms);  // in-flight work finishing on the loop
        later.async_wait([done](boost::system::error_code) { done(); });
    });
    ASSERT_TRUE(service.start().has_value());
    ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
    io.restart();
    io.run_for(5s);  // returns when the service stops the loop
    EXPECT_TRUE(io.stopped());
    EXPECT_TRUE(refused_during_stop);
    EXPECT_GT(given_deadline, std::chrono::steady_clock::now() + 10s);  // 20 s default grace
    EXPECT_TRUE(saw("STOPPING=1"));
    EXPECT_EQ(service.erp().router_endpoint(), "");  // closed
    EXPECT_EQ(service.exit_code(), 0);
}

TEST_F(ServiceTest, StopDeadlineEndsAHangingComponent) {
    Service service(io, load(), Service::Options{.stop_grace = 30ms, .handle_signals = false});
    std::function<void()> kept;
    service.on_stop([&](auto, std::function<void()> done) { kept = std::move(done); });  // never calls
    ASSERT_TRUE(service.start().has_value());
    service.stop();
    auto begun = std::chrono::steady_clock::now();
    io.restart();
    io.run_for(5s);
    EXPECT_TRUE(io.stopped());
    EXPECT_LT(std::chrono::steady_clock::now() - begun, 2s);
    kept();  // a late completion is harmless
}

TEST_F(ServiceTest, StartFailsWhenTheEndpointIsTaken) {
    Service first(io, load(), Service::Options{.handle_signals = false});
    ASSERT_TRUE(first.start().has_value());
    Config c = load();
    c.erp.router_endpoint = first.erp().router_endpoint();
    Service second(io, c, Service::Options{.handle_signals = false});
    auto started = second.start();
    ASSERT_FALSE(started.has_value());
    EXPECT_NE(started.error().find("ROUTER"), std::string::npos);
}

}  // namespace
}  // namespace pb::daemon
