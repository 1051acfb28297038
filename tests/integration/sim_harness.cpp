#include "sim_harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "protocol/zvt/apdu.hpp"
#include "protocol/zvt/serial_frame.hpp"

extern char** environ;

namespace pb::simtest {

namespace {

int remaining_ms(Clock::time_point until) {
    auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

int tcp_connect(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void write_all(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        ASSERT_GT(w, 0) << std::strerror(errno);
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

}  // namespace

TempDir::TempDir() {
    char tmpl[] = "/tmp/pbsim-XXXXXX";
    path = ::mkdtemp(tmpl);
}
TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

SimProcess::SimProcess(const TempDir& dir, std::vector<std::string> extra) { launch(dir, std::move(extra)); }

SimProcess::SimProcess(const TempDir& dir, std::vector<std::string> extra, std::string sub)
    : subcommand(std::move(sub)) {
    launch(dir, std::move(extra));
}

void SimProcess::launch(const TempDir& dir, std::vector<std::string> extra) {
    journal_path = dir.file("journal.jsonl");
    state_path = dir.file("state.json");
    std::vector<std::string> args = {PB_SIM_BINARY, "zvt", "--print-ready", "--control", "127.0.0.1:0",
                                     "--journal", journal_path, "--state", state_path};
    if (subcommand == "upstream") {
        state_path = dir.file("upstream-state.json");
        args = {PB_SIM_BINARY, "upstream", "--print-ready", "--http", "127.0.0.1:0", "--control", "127.0.0.1:0",
                "--state", state_path};
    } else if (std::find(extra.begin(), extra.end(), "--tcp") == extra.end()) {
        // An explicit --tcp in `extra` (a restart on the same port) replaces the ephemeral one.
        args.push_back("--tcp");
        args.push_back("127.0.0.1:0");
    }
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::string log = dir.file(subcommand == "upstream" ? "upstream-sim.log" : "sim.log");
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int rc = ::posix_spawn(&pid, PB_SIM_BINARY, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ASSERT_EQ(rc, 0) << "cannot start " << PB_SIM_BINARY;
    // READY tcp=127.0.0.1:P serial=PATH control=127.0.0.1:P, within a deadline.
    std::string line;
    auto until = Clock::now() + 10s;
    while (line.find('\n') == std::string::npos) {
        pollfd p{out[0], POLLIN, 0};
        if (::poll(&p, 1, remaining_ms(until)) <= 0) break;
        char c[256];
        ssize_t n = ::read(out[0], c, sizeof c);
        if (n <= 0) break;
        line.append(c, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    ASSERT_EQ(line.rfind("READY", 0), 0u) << "no READY line: '" << line << "'";
    std::istringstream in(line.substr(0, line.find('\n')));
    std::string word;
    while (in >> word) {
        auto port_of = [&](const std::string& w) {
            return static_cast<std::uint16_t>(std::stoi(w.substr(w.rfind(':') + 1)));
        };
        if (word.rfind("tcp=", 0) == 0) tcp_port = port_of(word);
        if (word.rfind("http=", 0) == 0) http_port = port_of(word);
        if (word.rfind("control=", 0) == 0) control_port = port_of(word);
        if (word.rfind("serial=", 0) == 0) serial_path = word.substr(7);
    }
    ready = (subcommand == "upstream" ? http_port : tcp_port) != 0 && control_port != 0;
}

SimProcess::~SimProcess() { kill_now(); }

void SimProcess::kill_now() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
}

std::optional<int> SimProcess::wait_exit(milliseconds deadline) {
    if (pid <= 0) return std::nullopt;
    // A pidfd becomes readable when the process exits: wait on it with the deadline.
    int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pfd >= 0) {
        pollfd p{pfd, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(deadline.count()));
        ::close(pfd);
    }
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r != pid) return std::nullopt;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> SimProcess::control(const std::string& command) {
    std::vector<std::string> lines;
    int fd = tcp_connect(control_port);
    EXPECT_GE(fd, 0);
    if (fd < 0) return lines;
    std::string c = command + "\n";
    write_all(fd, reinterpret_cast<const std::uint8_t*>(c.data()), c.size());
    std::string buf;
    auto until = Clock::now() + 5s;
    for (;;) {
        auto nl = buf.find('\n');
        if (nl != std::string::npos) {
            lines.push_back(buf.substr(0, nl));
            buf.erase(0, nl + 1);
            if (lines.back().rfind("OK", 0) == 0 || lines.back().rfind("ERR", 0) == 0) break;
            continue;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, remaining_ms(until)) <= 0) break;
        char tmp[4096];
        ssize_t n = ::read(fd, tmp, sizeof tmp);
        if (n <= 0) break;
        buf.append(tmp, static_cast<std::size_t>(n));
    }
    ::close(fd);
    EXPECT_FALSE(lines.empty()) << "no control reply to " << command;
    return lines;
}

std::vector<boost::json::object> SimProcess::journal() const {
    std::vector<boost::json::object> out;
    std::ifstream in(journal_path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        out.push_back(boost::json::parse(line).as_object());
    }
    return out;
}

std::vector<boost::json::object> SimProcess::journal_events(const std::string& name) const {
    std::vector<boost::json::object> out;
    for (auto& r : journal()) {
        if (r.at("event").as_string() == name) out.push_back(r);
    }
    return out;
}

// ---- ECR ----

void Ecr::send(const zvt::Message& m) {
    if (m.command != zvt::Command::positive_ack && m.command != zvt::Command::negative_ack) last_sent = m.command;
    send_raw(zvt::encode_apdu(zvt::encode_message(m)));
}

std::optional<zvt::Message> Ecr::recv(milliseconds deadline) {
    auto apdu = recv_apdu(deadline);
    if (!apdu) return std::nullopt;
    zvt::DecodeContext ctx;
    ctx.in_reply_to = last_sent;
    auto m = zvt::decode_message(*apdu, ctx);
    EXPECT_TRUE(m.has_value()) << "PT sent an undecodable APDU: " << to_hex(zvt::encode_apdu(*apdu)) << " "
                               << (m ? "" : m.error().to_string());
    if (!m) return std::nullopt;
    return *m;
}

std::vector<zvt::Message> Ecr::run_to_end(milliseconds deadline) {
    std::vector<zvt::Message> out;
    auto until = Clock::now() + deadline;
    for (;;) {
        auto m = recv(milliseconds(remaining_ms(until)));
        EXPECT_TRUE(m.has_value()) << "PT went silent after " << out.size() << " messages";
        if (!m) return out;
        out.push_back(*m);
        if (m->command == zvt::Command::positive_ack || m->command == zvt::Command::negative_ack) continue;
        ack();
        if (m->command == zvt::Command::completion || m->command == zvt::Command::abort_from_pt) return out;
    }
}

TcpEcr::TcpEcr(std::uint16_t port) {
    fd_ = tcp_connect(port);
    EXPECT_GE(fd_, 0) << "cannot connect to the simulator on port " << port;
}
TcpEcr::~TcpEcr() {
    if (fd_ >= 0) ::close(fd_);
}

void TcpEcr::send_raw(ByteView apdu) { write_all(fd_, apdu.data(), apdu.size()); }

bool TcpEcr::fill(Clock::time_point until) {
    if (eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(until)) <= 0) return false;
    std::uint8_t tmp[4096];
    ssize_t n = ::read(fd_, tmp, sizeof tmp);
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    pending.insert(pending.end(), tmp, tmp + n);
    return true;
}

std::optional<zvt::Apdu> TcpEcr::recv_apdu(milliseconds deadline) {
    auto until = Clock::now() + deadline;
    for (;;) {
        // The PT's APDUs start with a known CLASS (04, 06, 80, 84); anything else before one is
        // garbage from the garbage fault, which a TCP reader cannot resynchronise past in
        // general, but our garbage bytes (FF 00 55 AA 7E) never look like a CLASS byte.
        while (!pending.empty() && pending[0] != 0x04 && pending[0] != 0x06 && pending[0] != 0x80 &&
               pending[0] != 0x84) {
            saw_garbage = true;
            pending.erase(pending.begin());
        }
        auto d = zvt::decode_tcp(pending);
        if (auto* a = std::get_if<zvt::Apdu>(&d.result)) {
            zvt::Apdu apdu = *a;
            pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(d.consumed));
            return apdu;
        }
        if (std::holds_alternative<zvt::DecodeError>(d.result)) {
            ADD_FAILURE() << "bad TCP stream from the PT: " << to_hex(pending);
            return std::nullopt;
        }
        if (!fill(until)) return std::nullopt;
    }
}

bool TcpEcr::closed_within(milliseconds deadline) {
    auto until = Clock::now() + deadline;
    while (!eof_) {
        if (!fill(until) && !eof_) return false;
    }
    return true;
}

SerialEcr::SerialEcr(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT_GE(fd_, 0) << "cannot open " << path;
    if (fd_ < 0) return;
    termios t{};
    ::tcgetattr(fd_, &t);
    ::cfmakeraw(&t);
    t.c_cflag |= CSTOPB;  // 8N2, [ZVT-TP] §2.1
    ::cfsetspeed(&t, B9600);
    ::tcsetattr(fd_, TCSANOW, &t);
}
SerialEcr::~SerialEcr() {
    if (fd_ >= 0) ::close(fd_);
}

bool SerialEcr::fill(Clock::time_point until) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(until)) <= 0) return false;
    std::uint8_t tmp[4096];
    ssize_t n = ::read(fd_, tmp, sizeof tmp);
    if (n <= 0) return false;
    bytes_received += static_cast<std::size_t>(n);
    buf_.insert(buf_.end(), tmp, tmp + n);
    return true;
}

void SerialEcr::send_raw(ByteView apdu) {
    Bytes frame = zvt::encode_serial_frame(apdu);
    // [ZVT-TP] §3.5: up to two repeats on NAK.
    for (int attempt = 0; attempt < 3; ++attempt) {
        write_all(fd_, frame.data(), frame.size());
        bytes_sent += frame.size();
        auto until = Clock::now() + 5s;  // T2
        for (;;) {
            auto d = zvt::decode_serial(buf_);
            if (d.consumed == 0 && std::holds_alternative<zvt::NeedMore>(d.result)) {
                if (!fill(until)) {
                    ADD_FAILURE() << "no ACK/NAK from the PT";
                    return;
                }
                continue;
            }
            if (std::holds_alternative<zvt::AckByte>(d.result)) {
                buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(d.consumed));
                return;
            }
            if (std::holds_alternative<zvt::NakByte>(d.result)) {
                buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(d.consumed));
                ++naks_received;
                break;  // repeat
            }
            // A frame from the PT before our ACK: leave it for recv_apdu.
            if (std::holds_alternative<zvt::SerialFrame>(d.result)) {
                ADD_FAILURE() << "PT sent a frame before acknowledging ours";
                return;
            }
            if (auto* e = std::get_if<zvt::DecodeError>(&d.result); e && e->code == zvt::Error::frame_garbage) {
                ++garbage_events;
            }
            buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(d.consumed, 1)));
        }
    }
    ADD_FAILURE() << "PT NAKed our frame three times";
}

std::optional<zvt::Apdu> SerialEcr::recv_apdu(milliseconds deadline) {
    auto until = Clock::now() + deadline;
    for (;;) {
        auto d = zvt::decode_serial(buf_);
        if (d.consumed == 0 && std::holds_alternative<zvt::NeedMore>(d.result)) {
            if (!fill(until)) return std::nullopt;
            continue;
        }
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(d.consumed));
        if (auto* f = std::get_if<zvt::SerialFrame>(&d.result)) {
            std::uint8_t ack = zvt::ACK;
            write_all(fd_, &ack, 1);
            bytes_sent += 1;
            auto apdu = zvt::decode_apdu(f->apdu);
            EXPECT_TRUE(apdu.has_value());
            if (!apdu) return std::nullopt;
            return *apdu;
        }
        if (auto* e = std::get_if<zvt::DecodeError>(&d.result)) {
            if (e->code == zvt::Error::frame_crc_mismatch) {
                ++bad_crc_frames;
                std::uint8_t nak = zvt::NAK;
                write_all(fd_, &nak, 1);
            } else if (e->code == zvt::Error::frame_garbage) {
                ++garbage_events;
            }
        }
    }
}

// ---- data ----

std::vector<std::pair<std::string, Bytes>> golden_apdus() {
    std::vector<std::pair<std::string, Bytes>> out;
    std::ifstream in(std::string(PB_TEST_DATA_DIR) + "/zvt/golden.hex");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto bytes = from_hex(line.substr(colon + 1));
        if (bytes) out.emplace_back(line.substr(0, colon), *bytes);
    }
    return out;
}

zvt::Message auth(std::int64_t amount, bool with_currency) {
    zvt::Message m;
    m.command = zvt::Command::authorisation;
    m.control = 0x0601;
    m.fields.amount = amount;
    if (with_currency) m.fields.currency = 978;
    return m;
}

zvt::Message registration(std::uint8_t config, bool text_block) {
    zvt::Message m;
    m.command = zvt::Command::registration;
    m.control = 0x0600;
    m.password = 123456;
    m.config_byte = config;
    m.fields.currency = 978;
    if (text_block) {
        m.fields.tlv = std::vector<zvt::TlvNode>{zvt::tlv_constructed(
            zvt::tag::permitted_commands, {zvt::tlv_primitive(zvt::tag::zvt_command, Bytes{0x06, 0xD3})})};
    }
    return m;
}

zvt::Message admin(zvt::Command c) {
    zvt::Message m;
    m.command = c;
    m.control = static_cast<std::uint16_t>(c);
    m.password = 123456;
    return m;
}

zvt::Message with_receipt(zvt::Command c, std::uint16_t receipt) {
    zvt::Message m = admin(c);
    m.fields.receipt_no = receipt;
    return m;
}

}  // namespace pb::simtest
