#include "daemon/systemd_notify.hpp"

#include <systemd/sd-daemon.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace pb::daemon {

bool SystemdNotifier::send(const char* state) { return sd_notify(0, state) > 0; }

bool SystemdNotifier::ready(std::string_view status) {
    if (status.empty()) return send("READY=1");
    std::string msg = "READY=1\nSTATUS=" + std::string(status);
    return send(msg.c_str());
}

bool SystemdNotifier::status(std::string_view status) {
    std::string msg = "STATUS=" + std::string(status);
    return send(msg.c_str());
}

bool SystemdNotifier::reloading() { return send("RELOADING=1"); }
bool SystemdNotifier::stopping() { return send("STOPPING=1"); }
bool SystemdNotifier::watchdog() { return send("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_timeout() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::microseconds(usec);
}

bool SystemdNotifier::stderr_is_journal() {
    // systemd.exec(5): JOURNAL_STREAM is "device:inode" of the stream; only trust it when it
    // is still our fd 2 (a child of a logged service inherits the variable, not the stream).
    const char* env = std::getenv("JOURNAL_STREAM");
    if (!env) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (::fstat(2, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

}  // namespace pb::daemon
