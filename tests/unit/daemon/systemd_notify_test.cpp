#include "daemon/systemd_notify.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "daemon/log.hpp"
#include "tests/unit/daemon/notify_socket.hpp"

namespace pb::daemon {
namespace {

TEST(SystemdNotify, SendsReadyStatusWatchdogStopping) {
    test::NotifySocket sock;
    ASSERT_TRUE(sock.ok());
    SystemdNotifier n;
    EXPECT_TRUE(n.ready("serving 2 terminals"));
    EXPECT_EQ(sock.poll(), "READY=1\nSTATUS=serving 2 terminals");
    EXPECT_TRUE(n.watchdog());
    EXPECT_EQ(sock.poll(), "WATCHDOG=1");
    EXPECT_TRUE(n.reloading());
    EXPECT_EQ(sock.poll(), "RELOADING=1");
    EXPECT_TRUE(n.stopping());
    EXPECT_EQ(sock.poll(), "STOPPING=1");
    EXPECT_FALSE(sock.poll().has_value());
}

TEST(SystemdNotify, NoSocketMeansNoOp) {
    ::unsetenv("NOTIFY_SOCKET");
    SystemdNotifier n;
    EXPECT_FALSE(n.ready());
    EXPECT_FALSE(n.watchdog());
}

TEST(SystemdNotify, WatchdogTimeoutFollowsWatchdogUsecAndPid) {
    test::NotifySocket sock;
    ::unsetenv("WATCHDOG_USEC");
    EXPECT_FALSE(SystemdNotifier::watchdog_timeout().has_value());
    ::setenv("WATCHDOG_USEC", "30000000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    ASSERT_TRUE(SystemdNotifier::watchdog_timeout().has_value());
    EXPECT_EQ(SystemdNotifier::watchdog_timeout()->count(), 30000000);
    // The watchdog is for another process (e.g. we are a child of the service).
    ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
    EXPECT_FALSE(SystemdNotifier::watchdog_timeout().has_value());
}

TEST(SystemdNotify, JournalStreamMustMatchStderr) {
    ::unsetenv("JOURNAL_STREAM");
    EXPECT_FALSE(SystemdNotifier::stderr_is_journal());
    ::setenv("JOURNAL_STREAM", "1:2", 1);
    EXPECT_FALSE(SystemdNotifier::stderr_is_journal());
    struct stat st {};
    ASSERT_EQ(::fstat(2, &st), 0);
    ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
    EXPECT_TRUE(SystemdNotifier::stderr_is_journal());
    EXPECT_EQ(log::choose_target(LogConfig{LogLevel::info, true}), log::Target::journald);
    EXPECT_EQ(log::choose_target(LogConfig{LogLevel::info, false}), log::Target::stderr_text);
    ::unsetenv("JOURNAL_STREAM");
    EXPECT_EQ(log::choose_target(LogConfig{LogLevel::info, true}), log::Target::stderr_text);
}

TEST(Log, JournalFieldsCarryEventAndStructuredIds) {
    auto f = log::journal_fields(LogLevel::warn, "PB_PAYMENT_SENT", "sent 12.30 SEK",
                                 {.payment_id = "P17", .order = "4711", .terminal = "kassa1"});
    EXPECT_EQ(f, (std::vector<std::string>{"PRIORITY=4", "MESSAGE=sent 12.30 SEK", "PB_EVENT=PB_PAYMENT_SENT",
                                           "PB_PAYMENT_ID=P17", "PB_ORDER=4711", "PB_TERMINAL=kassa1"}));
    auto g = log::journal_fields(LogLevel::info, "PB_STARTED", "ready", {});
    EXPECT_EQ(g, (std::vector<std::string>{"PRIORITY=6", "MESSAGE=ready", "PB_EVENT=PB_STARTED"}));
    EXPECT_EQ(log::text_line("PB_PAYMENT_SENT", "sent", {.order = "4711", .terminal = "kassa1"}),
              "PB_PAYMENT_SENT: sent order=4711 terminal=kassa1");
}

}  // namespace
}  // namespace pb::daemon
