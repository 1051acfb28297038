#include "simulators/control_port.hpp"

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace pb::sim {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

ControlPort::ControlPort(asio::io_context& io, const tcp::endpoint& endpoint, Interpreter interpreter)
    : io_(io), acceptor_(io, endpoint), interpreter_(std::move(interpreter)) {
    accept();
}

std::uint16_t ControlPort::port() const { return acceptor_.local_endpoint().port(); }

void ControlPort::accept() {
    auto sock = std::make_shared<tcp::socket>(io_);
    acceptor_.async_accept(*sock, [this, sock](error_code ec) {
        if (ec) return;
        session(sock);
        accept();
    });
}

void ControlPort::session(std::shared_ptr<tcp::socket> sock) {
    auto buf = std::make_shared<asio::streambuf>();
    asio::async_read_until(*sock, *buf, '\n', [this, sock, buf](error_code ec, std::size_t n) {
        if (ec) return;
        std::string line(asio::buffers_begin(buf->data()), asio::buffers_begin(buf->data()) + static_cast<std::ptrdiff_t>(n));
        buf->consume(n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        bool quit = false;
        auto reply = std::make_shared<std::string>(interpreter_(line, quit));
        asio::async_write(*sock, asio::buffer(*reply), [this, sock, buf, reply, quit](error_code wec, std::size_t) {
            if (quit) {
                spdlog::info("shutdown requested on the control port");
                io_.stop();
                return;
            }
            if (!wec) session(sock);
        });
    });
}

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    for (std::size_t i = 0; i < line.size();) {
        auto j = line.find(' ', i);
        if (j == std::string::npos) j = line.size();
        if (j > i) words.push_back(line.substr(i, j - i));
        i = j + 1;
    }
    return words;
}

}  // namespace pb::sim
