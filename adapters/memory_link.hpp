#pragma once
// An in-memory pair of connected Links for unit tests (modelled on Beast's test::stream and
// fail_count): what one end writes, the other reads; either end can be made to fail its Nth
// operation, to return short reads, or to see the peer close.

#include <cstddef>
#include <memory>
#include <utility>

#include "adapters/link.hpp"

namespace pb::adapters {

/// Counts read and write operations; the Nth and every later one fail with `error`.
class FailCount {
public:
    explicit FailCount(std::size_t n, error_code error = asio::error::connection_reset)
        : n_(n), error_(error) {}
    /// Counts one operation; true (and `ec` set) when it must fail.
    bool fail(error_code& ec) {
        if (i_ < n_) ++i_;
        if (i_ == n_) {
            ec = error_;
            return true;
        }
        return false;
    }
    std::size_t operations() const { return i_; }

private:
    std::size_t i_ = 0;
    std::size_t n_;
    error_code error_;
};

class MemoryLink : public Link {
public:
    struct Pipe;  // one direction: bytes in flight plus the reader waiting for them
    MemoryLink(asio::any_io_executor ex, std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out,
               std::shared_ptr<FailCount> fail, std::string name);
    ~MemoryLink() override;

    executor_type get_executor() override { return ex_; }
    void close() override;
    bool is_open() const override { return open_; }
    std::string description() const override { return name_; }

    /// Caps every read at `n` bytes, so a reader sees its data split (0 = no cap).
    void set_read_size(std::size_t n) { read_size_ = n; }
    /// Bytes written by this end so far.
    std::size_t bytes_written() const { return bytes_written_; }

protected:
    void do_read_some(asio::mutable_buffer buffer, IoHandler handler) override;
    void do_write_some(asio::const_buffer buffer, IoHandler handler) override;

private:
    void complete(IoHandler h, error_code ec, std::size_t n);

    asio::any_io_executor ex_;
    std::shared_ptr<Pipe> in_, out_;
    std::shared_ptr<FailCount> fail_;
    std::string name_;
    std::size_t read_size_ = 0;
    std::size_t bytes_written_ = 0;
    bool open_ = true;
};

/// Two connected ends; `fail_a` / `fail_b` (optional) count the operations of each end.
std::pair<std::unique_ptr<MemoryLink>, std::unique_ptr<MemoryLink>> make_memory_link_pair(
    asio::any_io_executor ex, std::shared_ptr<FailCount> fail_a = nullptr,
    std::shared_ptr<FailCount> fail_b = nullptr);

}  // namespace pb::adapters
