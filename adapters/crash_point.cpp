#include "adapters/crash_point.hpp"

#ifdef PB_TEST_HOOKS

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace pb::adapters::crash {

namespace {

struct Target {
    std::string name;       // empty: no crash wanted
    long occurrence = 1;
    bool trace = false;
};

// PB_CRASH_AT=<name>[#<n>]; read once (thread-safe static initialisation).
Target& target() {
    static Target t = [] {
        Target x;
        if (const char* at = std::getenv("PB_CRASH_AT"); at && *at) {
            std::string s = at;
            if (auto hash = s.find('#'); hash != std::string::npos) {
                x.occurrence = std::strtol(s.c_str() + hash + 1, nullptr, 10);
                if (x.occurrence < 1) x.occurrence = 1;
                s.resize(hash);
            }
            x.name = std::move(s);
        }
        const char* tr = std::getenv("PB_CRASH_TRACE");
        x.trace = tr && *tr && *tr != '0';
        return x;
    }();
    return t;
}

void hit(Target& t, std::string_view prefix, std::string_view suffix) {
    if (t.trace) {
        // One write(2) so that lines of concurrent points never interleave.
        std::string line = "PB_CRASH_POINT reached ";
        line.append(prefix);
        if (!suffix.empty()) line.append(".").append(suffix);
        line.push_back('\n');
        [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
    }
    if (t.name.empty()) return;
    const bool match = suffix.empty() ? t.name == prefix
                                      : t.name.size() == prefix.size() + 1 + suffix.size() &&
                                            std::string_view(t.name).substr(0, prefix.size()) == prefix &&
                                            t.name[prefix.size()] == '.' &&
                                            std::string_view(t.name).substr(prefix.size() + 1) == suffix;
    if (!match) return;
    static std::atomic<long> seen{0};  // times the target point was reached
    if (seen.fetch_add(1) + 1 < t.occurrence) return;
    ::kill(::getpid(), SIGKILL);
}

}  // namespace

void reached(std::string_view name) { hit(target(), name, {}); }

void reached(std::string_view prefix, std::string_view suffix) {
    if (prefix.empty()) return;  // an operation without crash points (registration, poll)
    hit(target(), prefix, suffix);
}

}  // namespace pb::adapters::crash

#endif  // PB_TEST_HOOKS
