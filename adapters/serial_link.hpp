#pragma once
// Serial links through Asio's termios-based serial_port, which works on real ports and on
// pseudo-terminals alike (libserialport cannot open ptys, ../shared/stack.md), and the
// pseudo-terminal pair the simulator listens on.
//
// ZVT RS232 (PA00P016 §2.1): 9600 baud (115200 optional), 8 data bits, no parity, 2 stop
// bits, no handshake; "some terminals also accept 1 stop bit".

#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/link.hpp"
#include "protocol/core/expected.hpp"

namespace pb::adapters {

enum class Parity : std::uint8_t { none, odd, even };

struct SerialSettings {
    std::string device;  // "/dev/ttyUSB0", "/dev/pts/7"
    unsigned baud = 9600;
    unsigned data_bits = 8;
    Parity parity = Parity::none;
    unsigned stop_bits = 2;

    /// Bits on the wire per byte: start + data + parity + stop (8N2 = 11).
    unsigned bits_per_byte() const;
    /// "8N2"
    std::string framing() const;
    /// "/dev/ttyUSB0 9600 8N2"
    std::string to_string() const;
};

/// Parses a framing like "8N2", "8N1", "7E1". Error text says what is wrong.
Expected<SerialSettings, std::string> parse_framing(std::string_view text, SerialSettings base = {});

/// Opens `settings.device`, applies speed and framing (raw mode, no flow control) and drops
/// whatever the driver buffered before we came (stale bytes of an earlier session).
Expected<LinkPtr, error_code> open_serial_link(asio::any_io_executor ex, const SerialSettings& settings);

/// Adopts an open file descriptor (e.g. a pty master) as a Link; the Link owns and closes it.
LinkPtr make_fd_link(asio::any_io_executor ex, int fd, std::string description);

/// A pseudo-terminal pair in raw mode. The simulator talks through the master (make_fd_link
/// on release_master()); the daemon opens slave_path() with open_serial_link like a real
/// port. The pair keeps the slave open itself so the master does not see EIO/hang-up while
/// no client has the slave open (between daemon restarts).
class Pty {
public:
    static Expected<Pty, error_code> open();

    Pty(Pty&& other) noexcept;
    Pty& operator=(Pty&& other) noexcept;
    Pty(const Pty&) = delete;
    Pty& operator=(const Pty&) = delete;
    ~Pty();

    const std::string& slave_path() const { return slave_path_; }
    int master_fd() const { return master_; }
    /// Hands the master descriptor over to the caller (who must close it).
    int release_master();

private:
    Pty(int master, int slave, std::string path);
    int master_ = -1;
    int slave_ = -1;
    std::string slave_path_;
};

}  // namespace pb::adapters
