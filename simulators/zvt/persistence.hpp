#pragma once
// The simulator's durable records: the journal (JSON lines, flushed and fsynced per record:
// tests use it as the ground truth of what the terminal really charged) and the state file
// (trace/receipt/turnover numbers, the open batch and the last Status-Information, written
// atomically by tmp + fsync + rename, like a terminal's non-volatile memory).

#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

#include "protocol/core/expected.hpp"
#include "simulators/zvt/engine.hpp"

namespace pb::sim {

class JournalWriter {
public:
    JournalWriter() = default;
    ~JournalWriter();
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;

    /// Opens (appends to) `path`; an empty path keeps records in memory only.
    Expected<void, std::string> open(const std::string& path);
    /// Adds "seq" and "time" (UTC, ISO 8601), writes one line and fsyncs it.
    Expected<void, std::string> append(boost::json::object record);
    const std::string& path() const { return path_; }
    std::uint64_t count() const { return seq_; }

private:
    int fd_ = -1;
    std::string path_;
    std::uint64_t seq_ = 0;
};

boost::json::object state_to_json(const PersistentState& s);
Expected<PersistentState, std::string> state_from_json(const boost::json::value& v);

/// Reads the state file; a missing file is a fresh terminal.
Expected<PersistentState, std::string> load_state(const std::string& path);
/// Writes atomically: `path`.tmp, fsync, rename over `path`, fsync the directory.
Expected<void, std::string> save_state(const std::string& path, const PersistentState& s);

}  // namespace pb::sim
