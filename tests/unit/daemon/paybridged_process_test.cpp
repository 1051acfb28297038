// The real paybridged binary and the shipped unit file, checked as a technician would.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/unit/daemon/notify_socket.hpp"

extern char** environ;

namespace {

struct Output {
    int status = -1;
    std::string output;  // stdout + stderr
};

Output run(const std::string& command) {
    Output r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::filesystem::path temp_dir(const char* name) {
    auto d = std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
}

TEST(Paybridged, CheckConfigAcceptsTheExample) {
    Output r = run(std::string(PB_PAYBRIDGED) + " --check-config " PB_SOURCE_DIR "/examples/paybridged.toml");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.rfind("config OK: 2 terminals (kassa1, verkstad)", 0), 0u) << r.output;
}

TEST(Paybridged, CheckConfigListsEveryErrorAndFails) {
    auto dir = temp_dir("pb_check_");
    std::ofstream(dir / "bad.toml") << "[ledger]\npath = \"x\"\n[[terminal]]\nid = \"a\"\ntransport = \"tcp\"\n"
                                       "host = \"h\"\nport = 70000\npassword = \"000000\"\ncurrency = \"SEK\"\n"
                                       "register = \"r\"\nbuad = 9600\n";
    Output r = run(std::string(PB_PAYBRIDGED) + " --check-config " + (dir / "bad.toml").string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("terminal[0].port (line 7, column 8): must be 1..65535, got 70000"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("terminal[0].buad (line 11, column 1): unknown key"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("config INVALID: 2 errors"), std::string::npos) << r.output;
    std::filesystem::remove_all(dir);
}

TEST(Paybridged, StartRefusesAnInvalidConfig) {
    Output r = run(std::string(PB_PAYBRIDGED) + " --config /nonexistent/paybridged.toml");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("cannot read /nonexistent/paybridged.toml"), std::string::npos) << r.output;
}

TEST(Paybridged, DeviceAllowDropInNamesOnlyTheConfiguredSerialPorts) {
    auto dir = temp_dir("pb_devallow_");
    std::ofstream(dir / "two.toml")
        << "[ledger]\npath = \"x\"\n"
           "[[terminal]]\nid = \"k1\"\ntransport = \"tcp\"\nhost = \"10.0.0.5\"\nport = 20007\n"
           "password = \"000000\"\ncurrency = \"SEK\"\nregister = \"K1\"\n"
           "[[terminal]]\nid = \"w1\"\ntransport = \"serial\"\ndevice = \"/dev/serial/by-id/usb-FTDI-if00\"\n"
           "password = \"000000\"\ncurrency = \"SEK\"\nregister = \"W1\"\n";
    Output r = run(std::string(PB_PAYBRIDGED) + " --device-allow " + (dir / "two.toml").string());
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("[Service]\nDevicePolicy=closed\n"), std::string::npos) << r.output;
    // The empty assignment first: it drops the unit's device classes.
    auto reset = r.output.find("DeviceAllow=\n");
    auto port = r.output.find("DeviceAllow=/dev/serial/by-id/usb-FTDI-if00 rw\n");
    ASSERT_NE(reset, std::string::npos) << r.output;
    ASSERT_NE(port, std::string::npos) << r.output;
    EXPECT_LT(reset, port);
    EXPECT_EQ(r.output.find("char-tty"), std::string::npos) << "no classes for a path: " << r.output;
    EXPECT_EQ(r.output.find("10.0.0.5"), std::string::npos) << r.output;

    // A USB identity: its node can change, so the USB serial classes.
    r = run(std::string(PB_PAYBRIDGED) + " --device-allow " PB_SOURCE_DIR "/examples/paybridged.toml");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("DeviceAllow=char-ttyUSB rw\n"), std::string::npos) << r.output;

    // A bad config: its errors, exit 1, no drop-in.
    std::ofstream(dir / "bad.toml") << "[ledger]\n";
    r = run(std::string(PB_PAYBRIDGED) + " --device-allow " + (dir / "bad.toml").string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("ledger"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("[Service]"), std::string::npos) << r.output;
    std::filesystem::remove_all(dir);
}

TEST(SystemdUnit, VerifiesWithSystemdAnalyze) {
    if (run("command -v systemd-analyze").status != 0) GTEST_SKIP() << "systemd-analyze not installed";
    // verify checks that ExecStart exists: point it at the binary we just built.
    std::ifstream in(PB_SOURCE_DIR "/systemd/paybridged.service");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string unit = ss.str();
    const std::string exec = "/usr/bin/paybridged";
    ASSERT_NE(unit.find("ExecStart=" + exec), std::string::npos);
    unit.replace(unit.find("ExecStart=" + exec) + 10, exec.size(), PB_PAYBRIDGED);
    auto dir = temp_dir("pb_unit_");
    std::ofstream(dir / "paybridged.service") << unit;
    Output r = run("systemd-analyze verify " + (dir / "paybridged.service").string());
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "") << r.output;
    for (const char* required : {"Type=notify", "WatchdogSec=30", "User=paybridge", "DynamicUser=no",
                                 "StateDirectory=paybridge", "ProtectSystem=strict", "NoNewPrivileges=yes",
                                 "DevicePolicy=closed", "CapabilityBoundingSet=\n", "ExecReload=/bin/kill -HUP $MAINPID"})
        EXPECT_NE(unit.find(required), std::string::npos) << required;
    std::filesystem::remove_all(dir);
}

TEST(Paybridged, NotifiesReadyReloadsOnSighupAndExitsCleanlyOnSigterm) {
    auto dir = temp_dir("pb_proc_");
    const std::string config = (dir / "paybridged.toml").string();
    std::ofstream(config) << "[erp]\nrouter = \"tcp://127.0.0.1:*\"\npub = \"tcp://127.0.0.1:*\"\n"
                             "[ledger]\npath = \"" + (dir / "ledger.sqlite").string() + "\"\n[log]\njournald = false\n";
    pb::daemon::test::NotifySocket notify;  // sets NOTIFY_SOCKET, inherited by the child
    ASSERT_TRUE(notify.ok());
    ::setenv("WATCHDOG_USEC", "200000", 1);  // no WATCHDOG_PID: applies to the child too
    std::string exe = PB_PAYBRIDGED, flag = "--config";
    char* argv[] = {exe.data(), flag.data(), const_cast<char*>(config.c_str()), nullptr};
    pid_t pid = -1;
    ASSERT_EQ(::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, environ), 0);
    ::unsetenv("WATCHDOG_USEC");

    // Waits (poll with a deadline, no sleeping) for a datagram starting with `prefix`.
    auto expect = [&](const std::string& prefix) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            while (auto m = notify.poll())
                if (m->rfind(prefix, 0) == 0) return true;
            pollfd pfd{notify.fd(), POLLIN, 0};
            ::poll(&pfd, 1, 50);
        }
        return false;
    };
    EXPECT_TRUE(expect("READY=1"));
    EXPECT_TRUE(expect("WATCHDOG=1"));
    ::kill(pid, SIGHUP);
    EXPECT_TRUE(expect("RELOADING=1"));
    EXPECT_TRUE(expect("READY=1"));
    ::kill(pid, SIGTERM);
    EXPECT_TRUE(expect("STOPPING=1"));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    std::filesystem::remove_all(dir);
}

}  // namespace
