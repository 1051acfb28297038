#include "adapters/serial_link.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/serial_port.hpp>

#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <utility>

#include "adapters/stream_link.hpp"

namespace pb::adapters {

unsigned SerialSettings::bits_per_byte() const {
    return 1 + data_bits + (parity == Parity::none ? 0 : 1) + stop_bits;
}

std::string SerialSettings::framing() const {
    const char p = parity == Parity::none ? 'N' : parity == Parity::odd ? 'O' : 'E';
    return std::to_string(data_bits) + p + std::to_string(stop_bits);
}

std::string SerialSettings::to_string() const {
    return device + " " + std::to_string(baud) + " " + framing();
}

Expected<SerialSettings, std::string> parse_framing(std::string_view text, SerialSettings base) {
    if (text.size() != 3)
        return unexpected("framing '" + std::string(text) + "' is not of the form 8N2 (data bits, N/E/O, stop bits)");
    if (text[0] < '5' || text[0] > '8')
        return unexpected("framing '" + std::string(text) + "': data bits must be 5..8");
    switch (text[1]) {
        case 'N': case 'n': base.parity = Parity::none; break;
        case 'E': case 'e': base.parity = Parity::even; break;
        case 'O': case 'o': base.parity = Parity::odd; break;
        default: return unexpected("framing '" + std::string(text) + "': parity must be N, E or O");
    }
    if (text[2] != '1' && text[2] != '2')
        return unexpected("framing '" + std::string(text) + "': stop bits must be 1 or 2");
    base.data_bits = static_cast<unsigned>(text[0] - '0');
    base.stop_bits = static_cast<unsigned>(text[2] - '0');
    return base;
}

Expected<LinkPtr, error_code> open_serial_link(asio::any_io_executor ex, const SerialSettings& s) {
    using sp = asio::serial_port;
    sp port(ex);
    error_code ec;
    // serial_port::open puts the line in raw mode (no echo, no canonical input, CS8, CLOCAL).
    if (port.open(s.device, ec)) return unexpected(ec);
    if (port.set_option(sp::baud_rate(s.baud), ec)) return unexpected(ec);
    if (port.set_option(sp::character_size(s.data_bits), ec)) return unexpected(ec);
    const auto parity = s.parity == Parity::none  ? sp::parity::none
                        : s.parity == Parity::odd ? sp::parity::odd
                                                  : sp::parity::even;
    if (port.set_option(sp::parity(parity), ec)) return unexpected(ec);
    if (port.set_option(sp::stop_bits(s.stop_bits == 2 ? sp::stop_bits::two : sp::stop_bits::one), ec))
        return unexpected(ec);
    if (port.set_option(sp::flow_control(sp::flow_control::none), ec)) return unexpected(ec);
    ::tcflush(port.native_handle(), TCIOFLUSH);
    return LinkPtr(std::make_unique<detail::StreamLink<sp>>(std::move(port), "serial " + s.to_string()));
}

LinkPtr make_fd_link(asio::any_io_executor ex, int fd, std::string description) {
    asio::posix::stream_descriptor d(ex, fd);
    return std::make_unique<detail::StreamLink<asio::posix::stream_descriptor>>(std::move(d),
                                                                               std::move(description));
}

Expected<Pty, error_code> Pty::open() {
    int master = -1, slave = -1;
    char name[PATH_MAX] = {};
    if (::openpty(&master, &slave, name, nullptr, nullptr) != 0)
        return unexpected(error_code(errno, boost::system::system_category()));
    // Raw mode at once: the default line discipline would echo what the master writes back
    // to the master and translate CR/LF, corrupting binary frames.
    termios tio{};
    if (::tcgetattr(slave, &tio) == 0) {
        ::cfmakeraw(&tio);
        ::cfsetispeed(&tio, B9600);
        ::cfsetospeed(&tio, B9600);
        ::tcsetattr(slave, TCSANOW, &tio);
    }
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave, F_SETFD, FD_CLOEXEC);
    return Pty(master, slave, name);
}

Pty::Pty(int master, int slave, std::string path) : master_(master), slave_(slave), slave_path_(std::move(path)) {}

Pty::Pty(Pty&& o) noexcept
    : master_(std::exchange(o.master_, -1)), slave_(std::exchange(o.slave_, -1)), slave_path_(std::move(o.slave_path_)) {}

Pty& Pty::operator=(Pty&& o) noexcept {
    if (this != &o) {
        if (master_ >= 0) ::close(master_);
        if (slave_ >= 0) ::close(slave_);
        master_ = std::exchange(o.master_, -1);
        slave_ = std::exchange(o.slave_, -1);
        slave_path_ = std::move(o.slave_path_);
    }
    return *this;
}

Pty::~Pty() {
    if (master_ >= 0) ::close(master_);
    if (slave_ >= 0) ::close(slave_);
}

int Pty::release_master() { return std::exchange(master_, -1); }

}  // namespace pb::adapters
