#pragma once
// A simulator's control port: one text command per line, the reply lines end with "OK ..." or
// "ERR ..." (simulators/README.md). The command interpreter is the simulator's own.

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace pb::sim {

class ControlPort {
public:
    /// Answers one command line (without its newline); sets `quit` to stop the simulator
    /// after the reply is written.
    using Interpreter = std::function<std::string(const std::string& line, bool& quit)>;

    /// Listens on `endpoint` (throws boost::system::system_error if it cannot).
    ControlPort(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, Interpreter interpreter);
    std::uint16_t port() const;

private:
    void accept();
    void session(std::shared_ptr<boost::asio::ip::tcp::socket> sock);
    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    Interpreter interpreter_;
};

/// "fault set a=1 b" -> {"fault", "set", "a=1", "b"}
std::vector<std::string> split_words(const std::string& line);

}  // namespace pb::sim
