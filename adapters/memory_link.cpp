#include "adapters/memory_link.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstring>
#include <optional>

#include "protocol/core/bytes.hpp"

namespace pb::adapters {

struct MemoryLink::Pipe {
    Bytes data;
    std::optional<IoHandler> reader;  // a read waiting for data
    asio::mutable_buffer reader_buffer;
    std::size_t reader_limit = 0;
    bool writer_closed = false;  // the reader gets eof once data is drained
    bool reader_closed = false;  // the writer gets broken_pipe
};

namespace {
int next_id = 0;

std::size_t take(MemoryLink::Pipe& p, asio::mutable_buffer b, std::size_t limit) {
    std::size_t n = std::min(b.size(), p.data.size());
    if (limit != 0) n = std::min(n, limit);
    std::memcpy(b.data(), p.data.data(), n);
    p.data.erase(p.data.begin(), p.data.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
}
}  // namespace

MemoryLink::MemoryLink(asio::any_io_executor ex, std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out,
                       std::shared_ptr<FailCount> fail, std::string name)
    : ex_(std::move(ex)), in_(std::move(in)), out_(std::move(out)), fail_(std::move(fail)), name_(std::move(name)) {}

MemoryLink::~MemoryLink() { close(); }

void MemoryLink::complete(IoHandler h, error_code ec, std::size_t n) {
    // Never complete inside the initiating call (Asio's rule); post to the handler's executor.
    asio::post(ex_, asio::append(std::move(h), ec, n));
}

void MemoryLink::close() {
    if (!open_) return;
    open_ = false;
    if (in_->reader) {
        auto h = std::move(*in_->reader);
        in_->reader.reset();
        complete(std::move(h), asio::error::operation_aborted, 0);
    }
    in_->reader_closed = true;
    out_->writer_closed = true;
    if (out_->reader && out_->data.empty()) {  // the peer waits: tell it we are gone
        auto h = std::move(*out_->reader);
        out_->reader.reset();
        complete(std::move(h), asio::error::eof, 0);
    }
}

void MemoryLink::do_read_some(asio::mutable_buffer buffer, IoHandler handler) {
    error_code ec;
    if (!open_) return complete(std::move(handler), asio::error::bad_descriptor, 0);
    if (fail_ && fail_->fail(ec)) return complete(std::move(handler), ec, 0);
    if (buffer.size() == 0) return complete(std::move(handler), {}, 0);
    if (!in_->data.empty()) return complete(std::move(handler), {}, take(*in_, buffer, read_size_));
    if (in_->writer_closed) return complete(std::move(handler), asio::error::eof, 0);
    in_->reader = std::move(handler);
    in_->reader_buffer = buffer;
    in_->reader_limit = read_size_;
}

void MemoryLink::do_write_some(asio::const_buffer buffer, IoHandler handler) {
    error_code ec;
    if (!open_) return complete(std::move(handler), asio::error::bad_descriptor, 0);
    if (fail_ && fail_->fail(ec)) return complete(std::move(handler), ec, 0);
    if (out_->reader_closed) return complete(std::move(handler), asio::error::broken_pipe, 0);
    const auto* p = static_cast<const std::uint8_t*>(buffer.data());
    out_->data.insert(out_->data.end(), p, p + buffer.size());
    bytes_written_ += buffer.size();
    if (out_->reader && !out_->data.empty()) {
        auto h = std::move(*out_->reader);
        out_->reader.reset();
        const std::size_t n = take(*out_, out_->reader_buffer, out_->reader_limit);
        complete(std::move(h), {}, n);
    }
    complete(std::move(handler), {}, buffer.size());
}

std::pair<std::unique_ptr<MemoryLink>, std::unique_ptr<MemoryLink>> make_memory_link_pair(
    asio::any_io_executor ex, std::shared_ptr<FailCount> fail_a, std::shared_ptr<FailCount> fail_b) {
    auto ab = std::make_shared<MemoryLink::Pipe>();
    auto ba = std::make_shared<MemoryLink::Pipe>();
    const int id = ++next_id;
    return {std::make_unique<MemoryLink>(ex, ba, ab, std::move(fail_a), "memory#" + std::to_string(id) + "a"),
            std::make_unique<MemoryLink>(ex, ab, ba, std::move(fail_b), "memory#" + std::to_string(id) + "b")};
}

}  // namespace pb::adapters
