#pragma once
// Link over any Asio stream object (tcp::socket, serial_port, posix::stream_descriptor).
// Internal to adapters/: the public headers expose factories returning LinkPtr.

#include <boost/asio/error.hpp>

#include <string>
#include <utility>

#include "adapters/link.hpp"

namespace pb::adapters::detail {

template <class Stream>
class StreamLink final : public Link {
public:
    StreamLink(Stream stream, std::string description)
        : stream_(std::move(stream)), description_(std::move(description)) {}
    ~StreamLink() override { close(); }

    executor_type get_executor() override { return stream_.get_executor(); }
    void close() override {
        error_code ignored;
        if (stream_.is_open()) stream_.close(ignored);
    }
    bool is_open() const override { return stream_.is_open(); }
    std::string description() const override { return description_; }
    Stream& stream() { return stream_; }

protected:
    void do_read_some(asio::mutable_buffer buffer, IoHandler handler) override {
        stream_.async_read_some(buffer, std::move(handler));
    }
    void do_write_some(asio::const_buffer buffer, IoHandler handler) override {
        stream_.async_write_some(buffer, std::move(handler));
    }

private:
    Stream stream_;
    std::string description_;
};

}  // namespace pb::adapters::detail
