// Opening, the writer thread and group commit.
#include "ledger/ledger.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <thread>

#include "ledger/migrations.hpp"
#include "ledger/store.hpp"

namespace pb::ledger {

int schema_version() { return detail::schema_version_impl(); }

struct Ledger::Impl {
    struct Item {
        std::function<bool(Tx&)> run;
        std::function<void(const Error*)> finish;
    };

    Options options;
    std::string path;
    bool remove_on_close = false;
    int schema = 0;
    std::unique_ptr<detail::Store> writer;
    std::unique_ptr<detail::Store> read_store;  // null for memory: readers share the writer's
    std::unique_ptr<Tx> tx;
    std::unique_ptr<Reader> reader;
    // Guards the read connection; in memory mode also held by the writer during a batch.
    mutable std::mutex read_mutex;

    std::mutex queue_mutex;
    std::condition_variable queue_cv;
    std::deque<Item> queue;
    bool stopping = false;
    std::thread thread;

    void writer_loop();
    void run_batch(std::vector<Item>& batch);
};

void Ledger::Impl::writer_loop() {
    for (;;) {
        std::vector<Item> batch;
        {
            std::unique_lock lock(queue_mutex);
            queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
            if (queue.empty()) return;  // stopping and drained
            while (!queue.empty() && batch.size() < options.max_batch) {
                batch.push_back(std::move(queue.front()));
                queue.pop_front();
            }
        }
        run_batch(batch);
    }
}

void Ledger::Impl::run_batch(std::vector<Item>& batch) {
    std::unique_lock<std::mutex> shared;
    if (!read_store) shared = std::unique_lock(read_mutex);
    auto& db = writer->db;
    std::optional<Error> failure;
    try {
        detail::Transaction t(db);
        for (auto& item : batch) {
            // Each unit of work in its own savepoint: a refused one leaves no trace and the
            // others still commit.
            db.exec("SAVEPOINT work");
            const bool keep = item.run(*tx);
            if (!db.in_transaction()) throw detail::SqliteError("transaction aborted by SQLite");
            db.exec(keep ? "RELEASE work" : "ROLLBACK TO work; RELEASE work");
        }
        t.commit();
    } catch (const std::exception& e) {
        failure = Error{Errc::storage, std::string("ledger commit failed: ") + e.what()};
    }
    if (shared) shared.unlock();
    for (auto& item : batch) item.finish(failure ? &*failure : nullptr);
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
    impl_->thread = std::thread([this] { impl_->writer_loop(); });
}

Ledger::~Ledger() {
    {
        std::lock_guard lock(impl_->queue_mutex);
        impl_->stopping = true;
    }
    impl_->queue_cv.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
    const std::string path = impl_->path;
    const bool remove = impl_->remove_on_close;
    impl_.reset();
    if (remove) {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((path + suffix).c_str());
    }
}

void Ledger::enqueue(std::function<bool(Tx&)> run, std::function<void(const Error*)> finish) {
    {
        std::lock_guard lock(impl_->queue_mutex);
        if (!impl_->stopping) {
            impl_->queue.push_back(Impl::Item{std::move(run), std::move(finish)});
            impl_->queue_cv.notify_one();
            return;
        }
    }
    const Error closed{Errc::closed, "ledger is closing"};
    finish(&closed);
}

Ledger::ReadView Ledger::reader() const {
    return ReadView(std::unique_lock(impl_->read_mutex), impl_->reader.get());
}

int Ledger::schema() const { return impl_->schema; }
const std::string& Ledger::path() const { return impl_->path; }

Result<std::unique_ptr<Ledger>> Ledger::open(Options options) {
    auto impl = std::make_unique<Impl>();
    if (!options.clock) {
        options.clock = [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
    }
    if (options.max_batch == 0) options.max_batch = 1;
    switch (options.storage) {
        case Storage::file:
            if (options.path.empty()) return pb::unexpected(Error{Errc::invalid_argument, "ledger path is empty"});
            impl->path = options.path;
            break;
        case Storage::temporary: {
            std::string dir = options.path;
            if (dir.empty()) {
                const char* t = std::getenv("TMPDIR");
                dir = t && *t ? t : "/tmp";
            }
            std::string templ = dir + "/pb-ledger-XXXXXX";
            int fd = ::mkstemp(templ.data());
            if (fd < 0) return pb::unexpected(Error{Errc::storage, "cannot create a temporary ledger in " + dir});
            ::close(fd);
            impl->path = templ;
            impl->remove_on_close = true;
            break;
        }
        case Storage::memory: impl->path = ":memory:"; break;
    }
    impl->options = options;
    try {
        impl->writer = std::make_unique<detail::Store>(impl->path, options.clock);
        if (auto m = detail::migrate(impl->writer->db, options.target_schema); !m) {
            if (impl->remove_on_close) ::unlink(impl->path.c_str());
            return pb::unexpected(m.error());
        }
        impl->schema = detail::current_version(impl->writer->db);
        impl->tx.reset(new Tx(*impl->writer));
        if (options.storage == Storage::memory) {
            impl->reader.reset(new Reader(*impl->writer));
        } else {
            impl->read_store = std::make_unique<detail::Store>(impl->path, options.clock);
            impl->reader.reset(new Reader(*impl->read_store));
        }
    } catch (const std::exception& e) {
        if (impl->remove_on_close) ::unlink(impl->path.c_str());
        return pb::unexpected(Error{Errc::storage, std::string("cannot open ledger: ") + e.what()});
    }
    return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
}

}  // namespace pb::ledger
