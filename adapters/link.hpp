#pragma once
// A byte link to a terminal (or, in the simulator, to an ECR): one small async interface with
// TCP, serial, pseudo-terminal and in-memory implementations (style.md point 10).
//
// Link models Asio's AsyncReadStream and AsyncWriteStream, so asio::async_read,
// asio::async_write and every completion token (plain handlers, use_awaitable, ...) work on
// it. Implementations override the type-erased do_read_some / do_write_some. All operations
// run on the link's executor (one io_context per process, design.md §3); a Link is not
// thread-safe. Errors are boost::system::error_code values: a closed link answers
// asio::error::operation_aborted (pending operations) or asio::error::bad_descriptor /
// not_connected (new ones), the peer's close answers asio::error::eof.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace pb::adapters {

namespace asio = boost::asio;
using boost::system::error_code;

using IoHandler = asio::any_completion_handler<void(error_code, std::size_t)>;

class Link {
public:
    using executor_type = asio::any_io_executor;

    virtual ~Link() = default;
    Link() = default;
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;

    virtual executor_type get_executor() = 0;
    /// Cancels pending operations (they complete with operation_aborted) and releases the
    /// device or socket. Idempotent.
    virtual void close() = 0;
    virtual bool is_open() const = 0;
    /// For logs: "tcp 127.0.0.1:20007", "serial /dev/ttyUSB0 9600 8N2", "memory#3".
    virtual std::string description() const = 0;

    /// Reads at least one byte (unless `buffer` is empty) into `buffer`.
    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, asio::mutable_buffer b) { do_read_some(b, IoHandler(std::move(handler))); },
            token, first_buffer(buffers));
    }
    /// Writes some of `buffers`; use asio::async_write(link, ...) to write all of it.
    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, asio::const_buffer b) { do_write_some(b, IoHandler(std::move(handler))); },
            token, first_const_buffer(buffers));
    }

protected:
    virtual void do_read_some(asio::mutable_buffer buffer, IoHandler handler) = 0;
    virtual void do_write_some(asio::const_buffer buffer, IoHandler handler) = 0;

private:
    template <class Seq>
    static asio::mutable_buffer first_buffer(const Seq& seq) {
        for (auto it = asio::buffer_sequence_begin(seq); it != asio::buffer_sequence_end(seq); ++it)
            if (asio::mutable_buffer(*it).size() != 0) return asio::mutable_buffer(*it);
        return {};
    }
    template <class Seq>
    static asio::const_buffer first_const_buffer(const Seq& seq) {
        for (auto it = asio::buffer_sequence_begin(seq); it != asio::buffer_sequence_end(seq); ++it)
            if (asio::const_buffer(*it).size() != 0) return asio::const_buffer(*it);
        return {};
    }
};

using LinkPtr = std::unique_ptr<Link>;

}  // namespace pb::adapters
