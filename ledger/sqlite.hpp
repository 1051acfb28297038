#pragma once
// Ledger-internal SQLite wrapper: one connection, cached prepared statements, RAII
// transactions. Failures throw SqliteError, which every public ledger entry point catches and
// turns into Errc::storage (errors are values at the layer boundary, design.md §3).

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace pb::ledger::detail {

struct SqliteError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Db;

/// A cached prepared statement in use: bound parameters and row cursor. Resets on destruction
/// so the cached statement is ready for its next use.
class Stmt {
public:
    Stmt(Db& db, sqlite3_stmt* s) : db_(&db), s_(s) {}
    Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt();

    Stmt& bind(int i, std::int64_t v);
    Stmt& bind(int i, std::string_view v);
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Stmt& bind_blob(int i, const void* data, std::size_t n);
    Stmt& bind_null(int i);
    template <class T>
    Stmt& bind(int i, const std::optional<T>& v) {
        return v ? bind(i, static_cast<std::int64_t>(*v)) : bind_null(i);
    }

    /// true: a row is available; false: done.
    bool step();
    /// Runs a statement that returns no rows.
    void run() { while (step()) {} }

    bool is_null(int col) const;
    std::int64_t i64(int col) const;
    std::string text(int col) const;
    std::string blob(int col) const;

private:
    Db* db_;
    sqlite3_stmt* s_;
};

class Db {
public:
    /// Opens `path` (":memory:" for an in-memory database) read-write, creating it.
    explicit Db(const std::string& path);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    /// Executes one or more statements without parameters.
    void exec(std::string_view sql);
    /// A cached prepared statement for `sql` (prepared once per connection).
    Stmt prepare(std::string_view sql);
    /// Single-value query convenience.
    std::optional<std::int64_t> scalar(std::string_view sql);
    std::int64_t last_insert_rowid() const;
    bool in_transaction() const;
    [[noreturn]] void fail(std::string_view what) const;
    sqlite3* handle() { return db_; }

private:
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

/// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() succeeded.
class Transaction {
public:
    explicit Transaction(Db& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Db& db_;
    bool open_ = true;
};

}  // namespace pb::ledger::detail
