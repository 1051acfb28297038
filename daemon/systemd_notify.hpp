#pragma once
// sd_notify(3) for Type=notify: READY=1, STATUS=, RELOADING=1, STOPPING=1, WATCHDOG=1.
// Without NOTIFY_SOCKET (not started by systemd) every call is a no-op that returns false.

#include <chrono>
#include <optional>
#include <string_view>

namespace pb::daemon {

class SystemdNotifier {
public:
    /// True when a message was sent to the manager.
    bool ready(std::string_view status = {});
    bool status(std::string_view status);
    bool reloading();
    bool stopping();
    bool watchdog();

    /// The manager's watchdog timeout (WatchdogSec=, via WATCHDOG_USEC and WATCHDOG_PID), if
    /// enabled for this process. Keep-alives go out at half of it (sd_watchdog_enabled(3)).
    static std::optional<std::chrono::microseconds> watchdog_timeout();
    /// Whether stderr is connected to the journal (JOURNAL_STREAM matches fd 2), i.e. whether
    /// structured journald logging should replace plain stderr lines.
    static bool stderr_is_journal();

private:
    bool send(const char* state);
};

}  // namespace pb::daemon
