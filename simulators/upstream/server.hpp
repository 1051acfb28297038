#pragma once
// `paybridge-sim upstream`: the upstream services (service.hpp) behind an HTTP/1.1 server on
// one io_context, with fault injection and the issuer's administration on a control port like
// the ZVT simulator's, and an optional state file rewritten after every change.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "protocol/core/expected.hpp"
#include "simulators/zvt/server.hpp"  // Endpoint, parse_endpoint

namespace pb::sim::upstream {

struct ServerOptions {
    Endpoint http;
    std::optional<Endpoint> control;
    std::string state;   // "" = memory only
    std::string token;   // "" = no authentication; else "Authorization: Bearer <token>" required
    std::string today;   // "" = the system's UTC date; "YYYY-MM-DD" fixes it
};

class Server {
public:
    static Expected<std::unique_ptr<Server>, std::string> start(boost::asio::io_context& io, ServerOptions options);
    virtual ~Server() = default;
    /// "READY http=127.0.0.1:P control=127.0.0.1:P"
    virtual std::string ready_line() const = 0;
};

/// The faults a test can inject (control port `fault set NAME[=VALUE]`).
struct Faults {
    std::int64_t slow_ms = 0;  // slow=MS: every reply waits MS first (until cleared)
    int http_5xx = 0;          // http_5xx=N: the next N requests get 503, nothing is done
    int reset = 0;             // reset=N: the next N requests are closed unanswered (TCP reset), nothing is done
    int drop_reply = 0;        // drop_reply=N: the next N requests are done, then the connection is
                               //   closed unanswered (the client sends it again: a duplicate delivery)
    int malformed = 0;         // malformed=N: the next N requests get a 200 that is not the contract
    bool down = false;         // down: every connection is closed unanswered (until cleared)
    std::string path;          // path=PREFIX: the faults above (but down) hit only requests whose
                               //   path starts with PREFIX ("" = every request)
    bool applies(const std::string& request_path) const { return request_path.rfind(path, 0) == 0; }
    /// "slow=300", "http_5xx=2", "down"; the error names what is wrong.
    Expected<void, std::string> set(const std::string& word);
    Expected<void, std::string> clear(const std::string& name);  // "" = all
    std::string describe() const;
};

}  // namespace pb::sim::upstream
