#pragma once
// An AF_UNIX datagram socket standing in for systemd's notify socket (stack.md): the test sets
// NOTIFY_SOCKET to it and reads what sd_notify sent.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

namespace pb::daemon::test {

class NotifySocket {
public:
    NotifySocket() {
        path_ = "/tmp/pb_notify_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++);
        ::unlink(path_.c_str());
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
        ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    ~NotifySocket() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
        if (fd_ >= 0) ::close(fd_);
        ::unlink(path_.c_str());
    }
    bool ok() const { return ok_; }
    int fd() const { return fd_; }
    /// One datagram if one is waiting.
    std::optional<std::string> poll() {
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }

private:
    static int& counter() {
        static int c = 0;
        return c;
    }
    std::string path_;
    int fd_ = -1;
    bool ok_ = false;
};

}  // namespace pb::daemon::test
