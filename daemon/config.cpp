#include "daemon/config.hpp"

#include <toml++/toml.h>

#include "protocol/upstream/wire.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace pb::daemon {
namespace {

using namespace std::string_literals;

// Rights the ledger knows (ledger::right_id); the config names them, the ledger enforces them.
constexpr std::string_view kRights[] = {"take_card", "take_cash", "refund",    "resolve_interim",
                                        "close_day", "export",    "administer"};
constexpr std::uint32_t kBauds[] = {9600, 19200, 38400, 57600, 115200};

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table: return "table";
        case toml::node_type::array: return "array";
        case toml::node_type::string: return "string";
        case toml::node_type::integer: return "integer";
        case toml::node_type::floating_point: return "float";
        case toml::node_type::boolean: return "boolean";
        case toml::node_type::date: return "date";
        case toml::node_type::time: return "time";
        case toml::node_type::date_time: return "date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_z85_key(std::string_view s) {
    static constexpr std::string_view kZ85 =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    return s.size() == 40 && s.find_first_not_of(kZ85) == std::string_view::npos;
}

std::optional<std::uint16_t> parse_hex16(std::string_view s) {
    if (s.empty() || s.size() > 4) return std::nullopt;
    std::uint16_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

/// Reads one table's keys: every key must be consumed by a getter or it is reported unknown.
class Reader {
public:
    explicit Reader(ConfigErrors& errors) : errors_(errors) {}

    void error(std::string key, const toml::source_region& where, std::string message) {
        errors_.push_back({std::move(key), static_cast<std::uint32_t>(where.begin.line),
                           static_cast<std::uint32_t>(where.begin.column), std::move(message)});
    }

    static std::string join(const std::string& path, std::string_view key) {
        return path.empty() ? std::string(key) : path + "." + std::string(key);
    }

    /// Unknown keys are errors: a typo silently falling back to a default is the classic bug.
    void check_keys(const toml::table& t, const std::string& path, std::initializer_list<std::string_view> allowed) {
        check_keys(t, path, std::vector<std::string_view>(allowed));
    }
    void check_keys(const toml::table& t, const std::string& path, const std::vector<std::string_view>& allowed) {
        for (auto&& [k, v] : t) {
            (void)v;
            if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
            std::string msg = "unknown key";
            std::string_view best;
            std::size_t best_d = 3;
            for (auto a : allowed) {
                auto d = edit_distance(k.str(), a);
                if (d < best_d) best_d = d, best = a;
            }
            if (!best.empty()) msg += "; did you mean \"" + std::string(best) + "\"?";
            error(join(path, k.str()), k.source(), msg);
        }
    }

    const toml::table* table(const toml::table& t, std::string_view key, const std::string& path) {
        const toml::node* n = t.get(key);
        if (!n) return nullptr;
        if (!n->is_table()) {
            error(join(path, key), n->source(), "must be a table, got " + type_name(*n));
            return nullptr;
        }
        return n->as_table();
    }

    std::optional<std::string> string(const toml::table& t, std::string_view key, const std::string& path,
                                      bool required) {
        const toml::node* n = t.get(key);
        if (!n) {
            if (required) error(join(path, key), t.source(), "missing (required)");
            return std::nullopt;
        }
        if (!n->is_string()) {
            error(join(path, key), n->source(), "must be a string, got " + type_name(*n));
            return std::nullopt;
        }
        auto s = n->value<std::string>();
        if (required && s->empty()) {
            error(join(path, key), n->source(), "must not be empty");
            return std::nullopt;
        }
        return s;
    }

    std::optional<std::int64_t> integer(const toml::table& t, std::string_view key, const std::string& path,
                                        std::int64_t lo, std::int64_t hi) {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_integer()) {
            error(join(path, key), n->source(), "must be an integer, got " + type_name(*n));
            return std::nullopt;
        }
        auto v = *n->value<std::int64_t>();
        if (v < lo || v > hi) {
            error(join(path, key), n->source(),
                  "must be " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(v));
            return std::nullopt;
        }
        return v;
    }

    std::optional<bool> boolean(const toml::table& t, std::string_view key, const std::string& path) {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_boolean()) {
            error(join(path, key), n->source(), "must be true or false, got " + type_name(*n));
            return std::nullopt;
        }
        return *n->value<bool>();
    }

    /// An array of strings; each element is handed to `each(value, index_path, source)`.
    template <class F>
    void strings(const toml::table& t, std::string_view key, const std::string& path, F&& each) {
        const toml::node* n = t.get(key);
        if (!n) return;
        const toml::array* a = n->as_array();
        if (!a) {
            error(join(path, key), n->source(), "must be an array of strings, got " + type_name(*n));
            return;
        }
        for (std::size_t i = 0; i < a->size(); ++i) {
            const toml::node& e = *a->get(i);
            std::string p = join(path, key) + "[" + std::to_string(i) + "]";
            if (!e.is_string()) {
                error(p, e.source(), "must be a string, got " + type_name(e));
                continue;
            }
            each(*e.value<std::string>(), p, e.source());
        }
    }

    /// An array of tables ([[terminal]]); each gets `each(table, "terminal[i]")`.
    template <class F>
    void tables(const toml::table& t, std::string_view key, F&& each) {
        const toml::node* n = t.get(key);
        if (!n) return;
        const toml::array* a = n->as_array();
        if (!a || !a->is_array_of_tables()) {
            error(std::string(key), n->source(), "must be an array of tables ([[" + std::string(key) + "]])");
            return;
        }
        for (std::size_t i = 0; i < a->size(); ++i)
            each(*a->get(i)->as_table(), std::string(key) + "[" + std::to_string(i) + "]");
    }

    bool endpoint_ok(const std::string& e) {
        for (auto scheme : {"tcp://", "ipc://", "inproc://"})
            if (e.rfind(scheme, 0) == 0 && e.size() > std::string_view(scheme).size()) return true;
        return false;
    }

private:
    ConfigErrors& errors_;
};

void read_erp(Reader& r, const toml::table& t, ErpConfig& erp, const std::filesystem::path& base) {
    const std::string path = "erp";
    r.check_keys(t, path, {"router", "pub", "max_message_bytes", "curve"});
    for (auto [key, field] : {std::pair{"router", &erp.router_endpoint}, std::pair{"pub", &erp.pub_endpoint}}) {
        if (auto v = r.string(t, key, path, false)) {
            if (!r.endpoint_ok(*v))
                r.error(Reader::join(path, key), t.get(key)->source(),
                        "must be a ZeroMQ endpoint (tcp://host:port, ipc://path), got \"" + *v + "\"");
            else
                *field = *v;
        }
    }
    // "tcp://127.0.0.1:*" binds an ephemeral port per socket, so equal wildcards are fine.
    if (erp.router_endpoint == erp.pub_endpoint && t.get("pub") && erp.pub_endpoint.find('*') == std::string::npos)
        r.error("erp.pub", t.get("pub")->source(), "must differ from erp.router");
    if (auto v = r.integer(t, "max_message_bytes", path, 1024, 64 * 1024 * 1024))
        erp.max_message_bytes = static_cast<std::size_t>(*v);
    if (const toml::table* c = r.table(t, "curve", path)) {
        const std::string cp = "erp.curve";
        r.check_keys(*c, cp, {"server_secret_key_file", "allowed_clients"});
        CurveConfig curve;
        if (auto f = r.string(*c, "server_secret_key_file", cp, true)) {
            std::filesystem::path file(*f);
            if (file.is_relative()) file = base / file;
            curve.server_secret_key_file = file.string();
            std::ifstream in(file);
            std::string key;
            if (!in || !(in >> key))
                r.error(cp + ".server_secret_key_file", c->get("server_secret_key_file")->source(),
                        "cannot read \"" + file.string() + "\"");
            else if (!is_z85_key(key))
                r.error(cp + ".server_secret_key_file", c->get("server_secret_key_file")->source(),
                        "\"" + file.string() + "\" must hold a Z85 CURVE secret key (40 characters)");
            else
                curve.server_secret_key = Secret(key);
        }
        std::set<std::string> seen;
        r.strings(*c, "allowed_clients", cp, [&](const std::string& k, const std::string& p, auto& src) {
            if (!is_z85_key(k))
                r.error(p, src, "must be a Z85 CURVE public key (40 characters)");
            else if (!seen.insert(k).second)
                r.error(p, src, "duplicate client key");
            else
                curve.allowed_clients.push_back(k);
        });
        if (!c->get("allowed_clients"))
            r.error(cp + ".allowed_clients", c->source(), "missing (required: the ERP client public keys allowed in)");
        erp.curve = std::move(curve);
    }
}

void read_timeout(Reader& r, const toml::table& t, const std::string& path, std::string_view key,
                  std::chrono::milliseconds& out) {
    if (auto v = r.integer(t, key, path, 1, 3'600'000)) out = std::chrono::milliseconds(*v);
}

void read_terminal(Reader& r, const toml::table& t, const std::string& path, TerminalConfig& term) {
    r.check_keys(t, path,
                 {"id", "protocol", "transport", "host", "port", "device", "baud", "framing", "password",
                  "currency", "register", "receipt_printing", "receipt_sync", "t1_ms", "t2_ms", "t3_ms",
                  "t4_ms", "reconnect_initial_ms", "reconnect_max_ms"});
    if (auto v = r.string(t, "id", path, true)) term.id = *v;
    if (auto v = r.string(t, "protocol", path, false)) {
        if (*v != "zvt")
            r.error(path + ".protocol", t.get("protocol")->source(), "must be \"zvt\", got \"" + *v + "\"");
    }
    auto transport = r.string(t, "transport", path, false);
    if (!t.get("transport"))
        r.error(path + ".transport", t.source(), "missing (required): \"tcp\" or \"serial\"");

    auto only_for = [&](std::initializer_list<std::string_view> keys, const char* kind) {
        for (auto k : keys)
            if (const toml::node* n = t.get(k))
                r.error(path + "." + std::string(k), n->source(),
                        "only applies to transport = \"" + std::string(kind) + "\"");
    };
    if (transport && *transport == "tcp") {
        only_for({"device", "baud", "framing"}, "serial");
        TcpTransport tcp;
        if (auto v = r.string(t, "host", path, true)) tcp.host = *v;
        if (auto v = r.integer(t, "port", path, 1, 65535)) tcp.port = static_cast<std::uint16_t>(*v);
        term.transport = tcp;
    } else if (transport && *transport == "serial") {
        only_for({"host", "port"}, "tcp");
        SerialTransport serial;
        if (auto v = r.string(t, "device", path, true)) {
            if (v->rfind("usb:", 0) == 0) {
                // usb:VID:PID[:SERIAL], ids in hex as lsusb prints them.
                std::vector<std::string> parts;
                std::stringstream ss(v->substr(4));
                for (std::string part; std::getline(ss, part, ':');) parts.push_back(part);
                auto vid = parts.size() >= 2 ? parse_hex16(parts[0]) : std::nullopt;
                auto pid = parts.size() >= 2 ? parse_hex16(parts[1]) : std::nullopt;
                if (!vid || !pid || parts.size() > 3)
                    r.error(path + ".device", t.get("device")->source(),
                            "USB identity must be usb:VID:PID[:SERIAL] with hex ids (e.g. usb:0403:6001:A12B), got \"" +
                                *v + "\"");
                else
                    serial.device = UsbIdentity{*vid, *pid, parts.size() == 3 ? parts[2] : ""};
            } else if (v->front() != '/') {
                r.error(path + ".device", t.get("device")->source(),
                        "must be an absolute device path (/dev/ttyUSB0) or usb:VID:PID[:SERIAL], got \"" + *v + "\"");
            } else {
                serial.device = *v;
            }
        }
        if (const toml::node* n = t.get("baud")) {
            auto b = n->value<std::int64_t>();
            if (!n->is_integer() || std::find(std::begin(kBauds), std::end(kBauds), *b) == std::end(kBauds))
                r.error(path + ".baud", n->source(),
                        "must be one of 9600, 19200, 38400, 57600, 115200, got " +
                            (n->is_integer() ? std::to_string(*b) : type_name(*n)));
            else
                serial.baud = static_cast<std::uint32_t>(*b);
        }
        if (auto v = r.string(t, "framing", path, false)) {
            if (*v == "8N2") serial.framing = Framing::n8_2;
            else if (*v == "8N1") serial.framing = Framing::n8_1;
            else r.error(path + ".framing", t.get("framing")->source(), "must be \"8N2\" or \"8N1\", got \"" + *v + "\"");
        }
        term.transport = serial;
    } else if (transport) {
        r.error(path + ".transport", t.get("transport")->source(),
                "must be \"tcp\" or \"serial\", got \"" + *transport + "\"");
    }

    if (const toml::node* n = t.get("password")) {
        // The value itself never appears in a message: it is a secret.
        if (!n->is_string())
            r.error(path + ".password", n->source(),
                    "must be a string of 6 digits in quotes (leading zeros matter), got " + type_name(*n));
        else if (auto s = *n->value<std::string>(); s.size() != 6 || !all_digits(s))
            r.error(path + ".password", n->source(), "must be exactly 6 digits");
        else
            term.password = Secret(s);
    } else {
        r.error(path + ".password", t.source(), "missing (required): the terminal's 6-digit ZVT password");
    }
    if (auto v = r.string(t, "currency", path, true)) {
        if (auto c = currency_from_code(*v))
            term.currency = *c;
        else
            r.error(path + ".currency", t.get("currency")->source(),
                    "unknown ISO 4217 currency \"" + *v + "\" (e.g. \"SEK\", \"EUR\")");
    }
    if (auto v = r.string(t, "register", path, true)) term.register_id = *v;
    if (auto v = r.string(t, "receipt_printing", path, false)) {
        if (*v == "ecr") term.receipt_printing = ReceiptPrinting::ecr;
        else if (*v == "terminal") term.receipt_printing = ReceiptPrinting::terminal;
        else r.error(path + ".receipt_printing", t.get("receipt_printing")->source(),
                     "must be \"ecr\" or \"terminal\", got \"" + *v + "\"");
    }
    if (auto v = r.boolean(t, "receipt_sync", path)) term.receipt_sync = *v;
    read_timeout(r, t, path, "t1_ms", term.timeouts.t1);
    read_timeout(r, t, path, "t2_ms", term.timeouts.t2);
    read_timeout(r, t, path, "t3_ms", term.timeouts.t3);
    read_timeout(r, t, path, "t4_ms", term.timeouts.t4);
    read_timeout(r, t, path, "reconnect_initial_ms", term.reconnect.initial);
    read_timeout(r, t, path, "reconnect_max_ms", term.reconnect.max);
    if (term.reconnect.max < term.reconnect.initial && t.get("reconnect_max_ms"))
        r.error(path + ".reconnect_max_ms", t.get("reconnect_max_ms")->source(),
                "must be >= reconnect_initial_ms (" + std::to_string(term.reconnect.initial.count()) + ")");
}

bool timezone_ok(const std::string& tz) {
    if (tz == "UTC") return true;
    // Fixed offset "+01:00" / "-05:30".
    if (tz.size() == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' && all_digits(tz.substr(1, 2)) &&
        all_digits(tz.substr(4, 2)))
        return std::stoi(tz.substr(1, 2)) <= 14 && std::stoi(tz.substr(4, 2)) < 60;
    if (tz.find("..") != std::string::npos || tz.front() == '/') return false;
    std::error_code ec;
    if (std::filesystem::is_directory("/usr/share/zoneinfo", ec))
        return std::filesystem::is_regular_file("/usr/share/zoneinfo/" + tz, ec);
    return tz.find('/') != std::string::npos;  // no tzdata to ask: accept Area/City shape
}

void read_ledger(Reader& r, const toml::table& t, LedgerConfig& ledger) {
    r.check_keys(t, "ledger", {"path", "timezone", "day_starts_at"});
    if (auto v = r.string(t, "path", "ledger", true)) ledger.path = *v;
    if (auto v = r.string(t, "timezone", "ledger", false)) {
        if (v->empty() || !timezone_ok(*v))
            r.error("ledger.timezone", t.get("timezone")->source(),
                    "must be an IANA zone (\"Europe/Stockholm\"), \"UTC\" or an offset (\"+01:00\"), got \"" + *v + "\"");
        else
            ledger.timezone = *v;
    }
    if (auto v = r.string(t, "day_starts_at", "ledger", false)) {
        bool ok = v->size() == 5 && (*v)[2] == ':' && all_digits(v->substr(0, 2)) && all_digits(v->substr(3, 2)) &&
                  std::stoi(v->substr(0, 2)) < 24 && std::stoi(v->substr(3, 2)) < 60;
        if (!ok)
            r.error("ledger.day_starts_at", t.get("day_starts_at")->source(), "must be \"HH:MM\", got \"" + *v + "\"");
        else
            ledger.day_starts_at = std::chrono::minutes(std::stoi(v->substr(0, 2)) * 60 + std::stoi(v->substr(3, 2)));
    }
}

void read_issuer(Reader& r, const toml::table& t, const std::string& path, IssuerSeed& issuer) {
    r.check_keys(t, path, {"id", "name", "account", "bins"});
    if (auto v = r.string(t, "id", path, true)) issuer.id = *v;
    if (auto v = r.string(t, "name", path, true)) issuer.name = *v;
    if (auto v = r.string(t, "account", path, true)) issuer.account = *v;
    r.strings(t, "bins", path, [&](const std::string& s, const std::string& p, auto& src) {
        auto dash = s.find('-');
        std::string first = s.substr(0, dash), last = dash == std::string::npos ? first : s.substr(dash + 1);
        // A BIN/IIN is 6 or 8 digits; shorter prefixes (e.g. "4") name whole networks.
        if (!all_digits(first) || !all_digits(last) || first.size() > 11 || first.size() != last.size() ||
            first > last)
            r.error(p, src, "must be a BIN prefix (\"627455\") or a range of equal-length prefixes "
                            "(\"627455-627459\"), got \"" + s + "\"");
        else
            issuer.bins.push_back({first, last});
    });
}

void read_operator(Reader& r, const toml::table& t, const std::string& path, OperatorSeed& op) {
    r.check_keys(t, path, {"id", "name", "rights"});
    if (auto v = r.string(t, "id", path, true)) op.id = *v;
    if (auto v = r.string(t, "name", path, false)) op.name = *v;
    r.strings(t, "rights", path, [&](const std::string& s, const std::string& p, auto& src) {
        if (std::find(std::begin(kRights), std::end(kRights), s) == std::end(kRights))
            r.error(p, src, "unknown right \"" + s + "\" (take_card, take_cash, refund, resolve_interim, "
                            "close_day, export, administer)");
        else
            op.rights.push_back(s);
    });
}

void read_log(Reader& r, const toml::table& t, LogConfig& log) {
    r.check_keys(t, "log", {"level", "journald"});
    if (auto v = r.string(t, "level", "log", false)) {
        static constexpr std::pair<std::string_view, LogLevel> kLevels[] = {
            {"trace", LogLevel::trace}, {"debug", LogLevel::debug}, {"info", LogLevel::info},
            {"warn", LogLevel::warn},   {"error", LogLevel::error}};
        auto it = std::find_if(std::begin(kLevels), std::end(kLevels), [&](auto& p) { return p.first == *v; });
        if (it == std::end(kLevels))
            r.error("log.level", t.get("level")->source(),
                    "must be trace, debug, info, warn or error, got \"" + *v + "\"");
        else
            log.level = it->second;
    }
    if (auto v = r.boolean(t, "journald", "log")) log.journald = *v;
}

void read_http(Reader& r, const toml::table& t, HttpConfig& http) {
    r.check_keys(t, "http", {"enabled", "listen"});
    if (auto v = r.boolean(t, "enabled", "http")) http.enabled = *v;
    if (auto v = r.string(t, "listen", "http", false)) {
        auto colon = v->rfind(':');
        std::uint32_t port = 0;
        std::string host = colon == std::string::npos ? "" : v->substr(0, colon);
        std::string port_text = colon == std::string::npos ? "" : v->substr(colon + 1);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        // Port 0 binds a free port (tests); the PB_DASHBOARD log line names it.
        if (host.empty() || ec != std::errc{} || p != port_text.data() + port_text.size() || port > 65535)
            r.error("http.listen", t.get("listen")->source(),
                    "must be host:port with port 0..65535 (\"127.0.0.1:7602\"), got \"" + *v + "\"");
        else
            http.listen_host = host, http.listen_port = static_cast<std::uint16_t>(port);
    }
}

void read_upstream_service(Reader& r, const toml::table& t, const std::string& path, UpstreamServiceConfig& u,
                           const std::filesystem::path& base, std::initializer_list<std::string_view> more_keys = {}) {
    std::vector<std::string_view> keys{"url", "token", "client_cert", "client_key", "ca_file", "verify_peer",
                                       "allow_plain_http", "timeout_ms"};
    keys.insert(keys.end(), more_keys.begin(), more_keys.end());
    r.check_keys(t, path, keys);
    auto file = [&](std::string_view key, std::string& out) {
        if (auto v = r.string(t, key, path, false)) {
            std::filesystem::path f(*v);
            if (f.is_relative()) f = base / f;
            std::error_code ec;
            if (!std::filesystem::is_regular_file(f, ec))
                r.error(Reader::join(path, key), t.get(key)->source(), "no readable file \"" + f.string() + "\"");
            out = f.string();
        }
    };
    if (auto v = r.boolean(t, "allow_plain_http", path)) u.allow_plain_http = *v;
    if (auto v = r.string(t, "url", path, true)) {
        auto url = upstream::parse_url(*v);
        if (!url)
            r.error(Reader::join(path, "url"), t.get("url")->source(), url.error() + ", got \"" + *v + "\"");
        else if (!url->tls && !url->loopback() && !u.allow_plain_http)
            r.error(Reader::join(path, "url"), t.get("url")->source(),
                    "plain http:// is allowed only to a loopback host (or with allow_plain_http = true)");
        else
            u.url = *v;
    }
    if (auto v = r.string(t, "token", path, false)) u.token = *v;
    file("client_cert", u.client_cert);
    file("client_key", u.client_key);
    file("ca_file", u.ca_file);
    if ((t.get("client_cert") != nullptr) != (t.get("client_key") != nullptr))
        r.error(path, t.source(), "client_cert and client_key go together");
    if (auto v = r.boolean(t, "verify_peer", path)) u.verify_peer = *v;
    if (auto v = r.integer(t, "timeout_ms", path, 50, 120000)) u.timeout = std::chrono::milliseconds(*v);
}

void read_ereceipt(Reader& r, const toml::table& t, UpstreamConfig& up, const std::filesystem::path& base) {
    const std::string path = "upstream.ereceipt";
    EreceiptConfig e;
    read_upstream_service(r, t, path, e.service, base,
                          {"public_url", "jurisdiction", "email_mode", "shop_name", "qr_display_ms", "choice_timeout_ms",
                           "retention_days"});
    e.public_url = e.service.url.empty() ? "" : e.service.url + "/r/";
    if (auto v = r.string(t, "public_url", path, false)) {
        auto url = upstream::parse_url(*v);
        if (!url || v->back() != '/')
            r.error(Reader::join(path, "public_url"), t.get("public_url")->source(),
                    "must be an http(s) URL ending in / (the receipt id follows it), got \"" + *v + "\"");
        else
            e.public_url = *v;
    }
    if (auto v = r.string(t, "jurisdiction", path, false)) {
        if (v->size() != 2 || !std::isupper(static_cast<unsigned char>((*v)[0])) ||
            !std::isupper(static_cast<unsigned char>((*v)[1])))
            r.error(Reader::join(path, "jurisdiction"), t.get("jurisdiction")->source(),
                    "must be an ISO 3166 country code (\"SE\", \"NO\"), got \"" + *v + "\"");
        else
            e.jurisdiction = *v;
    }
    if (auto v = r.string(t, "email_mode", path, false)) {
        if (*v != "attachment" && *v != "link")
            r.error(Reader::join(path, "email_mode"), t.get("email_mode")->source(),
                    "must be \"attachment\" (the PDF attached) or \"link\", got \"" + *v + "\"");
        else
            e.email_link = *v == "link";
    }
    if (auto v = r.string(t, "shop_name", path, false)) e.shop_name = *v;
    if (auto v = r.integer(t, "qr_display_ms", path, 100, 3600000)) e.qr_display = std::chrono::milliseconds(*v);
    if (auto v = r.integer(t, "choice_timeout_ms", path, 100, 3600000)) e.choice_timeout = std::chrono::milliseconds(*v);
    if (auto v = r.integer(t, "retention_days", path, 1, 3650)) e.retention_days = static_cast<int>(*v);
    up.ereceipt = e;
}

void read_commitment_cards(Reader& r, const toml::table& t, CommitmentCardsConfig& c) {
    const std::string path = "commitment_cards";
    r.check_keys(t, path, {"iins", "id_prefix", "read_timeout_s"});
    r.strings(t, "iins", path, [&](const std::string& v, const std::string& p, const toml::source_region& src) {
        if (v.empty() || v.size() > 11 || v.find_first_not_of("0123456789") != std::string::npos)
            r.error(p, src, "must be 1..11 digits (a card-number prefix), got \"" + v + "\"");
        else
            c.iins.push_back(v);
    });
    if (auto v = r.string(t, "id_prefix", path, false)) {
        if (v->size() > 16 || v->find_first_of(" \t\r\n\"") != std::string::npos)
            r.error(Reader::join(path, "id_prefix"), t.get("id_prefix")->source(),
                    "must be at most 16 characters without spaces or quotes");
        else
            c.id_prefix = *v;
    }
    if (auto v = r.integer(t, "read_timeout_s", path, 1, 120)) c.read_timeout_s = static_cast<unsigned>(*v);
}

void read_upstream(Reader& r, const toml::table& t, UpstreamConfig& up, const std::filesystem::path& base) {
    r.check_keys(t, "upstream", {"commitment", "benefit", "outbox", "ereceipt"});
    if (auto* c = r.table(t, "commitment", "upstream")) {
        UpstreamServiceConfig s;
        read_upstream_service(r, *c, "upstream.commitment", s, base);
        up.commitment = s;
    }
    if (auto* c = r.table(t, "benefit", "upstream")) {
        BenefitServiceConfig b;
        read_upstream_service(r, *c, "upstream.benefit", b.service, base,
                              {"provider_id", "valid_minutes", "cancel_minutes", "credit_days"});
        if (auto v = r.string(*c, "provider_id", "upstream.benefit", true)) b.provider_id = *v;
        if (auto v = r.integer(*c, "valid_minutes", "upstream.benefit", 1, 60 * 24 * 60)) b.valid = std::chrono::minutes(*v);
        if (auto v = r.integer(*c, "cancel_minutes", "upstream.benefit", 1, 7 * 24 * 60)) b.cancel = std::chrono::minutes(*v);
        if (auto v = r.integer(*c, "credit_days", "upstream.benefit", 1, 366)) b.credit = std::chrono::hours(24 * *v);
        up.benefit = b;
    }
    if (auto* e = r.table(t, "ereceipt", "upstream")) read_ereceipt(r, *e, up, base);
    if (auto* o = r.table(t, "outbox", "upstream")) {
        r.check_keys(*o, "upstream.outbox", {"retry_initial_ms", "retry_max_ms", "dead_after_hours"});
        if (auto v = r.integer(*o, "retry_initial_ms", "upstream.outbox", 10, 3600000))
            up.outbox.retry_initial = std::chrono::milliseconds(*v);
        if (auto v = r.integer(*o, "retry_max_ms", "upstream.outbox", 10, 86400000))
            up.outbox.retry_max = std::chrono::milliseconds(*v);
        if (auto v = r.integer(*o, "dead_after_hours", "upstream.outbox", 1, 24 * 365))
            up.outbox.dead_after = std::chrono::hours(*v);
        if (up.outbox.retry_max < up.outbox.retry_initial)
            r.error("upstream.outbox.retry_max_ms", o->source(), "must be >= retry_initial_ms");
    }
}

Expected<Config, ConfigErrors> build(const toml::table& root, std::string source) {
    ConfigErrors errors;
    Reader r(errors);
    Config cfg;
    cfg.source = std::move(source);
    std::filesystem::path base = std::filesystem::path(cfg.source).parent_path();

    r.check_keys(root, "", {"erp", "terminal", "ledger", "issuer", "operator", "log", "http", "upstream",
                            "commitment_cards"});
    if (auto* t = r.table(root, "erp", "")) read_erp(r, *t, cfg.erp, base);
    if (auto* t = r.table(root, "ledger", ""))
        read_ledger(r, *t, cfg.ledger);
    else if (!root.get("ledger"))
        r.error("ledger", root.source(), "missing (required): [ledger] with path");
    if (auto* t = r.table(root, "log", "")) read_log(r, *t, cfg.log);
    if (auto* t = r.table(root, "http", "")) read_http(r, *t, cfg.http);
    if (auto* t = r.table(root, "upstream", "")) read_upstream(r, *t, cfg.upstream, base);
    if (auto* t = r.table(root, "commitment_cards", "")) read_commitment_cards(r, *t, cfg.commitment_cards);

    std::set<std::string> ids;
    r.tables(root, "terminal", [&](const toml::table& t, const std::string& path) {
        TerminalConfig term;
        read_terminal(r, t, path, term);
        if (!term.id.empty() && !ids.insert(term.id).second)
            r.error(path + ".id", t.get("id")->source(), "duplicate terminal id \"" + term.id + "\"");
        cfg.terminals.push_back(std::move(term));
    });
    ids.clear();
    r.tables(root, "issuer", [&](const toml::table& t, const std::string& path) {
        IssuerSeed issuer;
        read_issuer(r, t, path, issuer);
        if (!issuer.id.empty() && !ids.insert(issuer.id).second)
            r.error(path + ".id", t.get("id")->source(), "duplicate issuer id \"" + issuer.id + "\"");
        cfg.issuers.push_back(std::move(issuer));
    });
    ids.clear();
    r.tables(root, "operator", [&](const toml::table& t, const std::string& path) {
        OperatorSeed op;
        read_operator(r, t, path, op);
        if (!op.id.empty() && !ids.insert(op.id).second)
            r.error(path + ".id", t.get("id")->source(), "duplicate operator id \"" + op.id + "\"");
        cfg.operators.push_back(std::move(op));
    });

    if (!errors.empty()) {
        std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
            return std::tie(a.line, a.column) < std::tie(b.line, b.column);
        });
        return unexpected(std::move(errors));
    }
    return cfg;
}

}  // namespace

const TerminalConfig* Config::terminal(std::string_view id) const {
    for (const auto& t : terminals)
        if (t.id == id) return &t;
    return nullptr;
}

std::string ConfigError::to_string() const {
    std::string out = key.empty() ? std::string() : key;
    if (line != 0) {
        if (!out.empty()) out += ' ';
        out += "(line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
    }
    if (!out.empty()) out += ": ";
    return out + message;
}

Expected<Config, ConfigErrors> parse_config(std::string_view toml_text, std::string source) {
    try {
        toml::table root = toml::parse(toml_text, source);
        return build(root, std::move(source));
    } catch (const toml::parse_error& e) {
        ConfigError err{"", static_cast<std::uint32_t>(e.source().begin.line),
                        static_cast<std::uint32_t>(e.source().begin.column),
                        "TOML syntax: " + std::string(e.description())};
        return unexpected(ConfigErrors{std::move(err)});
    }
}

Expected<Config, ConfigErrors> load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::error_code ec(errno, std::generic_category());
        return unexpected(ConfigErrors{{"", 0, 0, "cannot read " + path + ": " + ec.message()}});
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return unexpected(ConfigErrors{{"", 0, 0, "cannot read " + path + ": read error"}});
    return parse_config(ss.str(), path);
}

std::string_view to_string(LogLevel level) {
    switch (level) {
        case LogLevel::trace: return "trace";
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "?";
}

std::string transport_description(const TerminalConfig& t) {
    if (auto* tcp = std::get_if<TcpTransport>(&t.transport)) return "tcp " + tcp->host + ":" + std::to_string(tcp->port);
    const auto& s = std::get<SerialTransport>(t.transport);
    std::string dev;
    if (auto* p = std::get_if<std::string>(&s.device)) {
        dev = *p;
    } else {
        const auto& u = std::get<UsbIdentity>(s.device);
        char buf[32];
        std::snprintf(buf, sizeof buf, "usb:%04x:%04x", u.vendor_id, u.product_id);
        dev = buf + (u.serial.empty() ? "" : ":" + u.serial);
    }
    return "serial " + dev + " " + std::to_string(s.baud) + " " + (s.framing == Framing::n8_2 ? "8N2" : "8N1");
}

std::string redacted_dump(const Config& c) {
    std::ostringstream o;
    auto q = [](const std::string& s) { return "\"" + s + "\""; };
    o << "source = " << q(c.source) << "\n";
    o << "erp.router = " << q(c.erp.router_endpoint) << "\nerp.pub = " << q(c.erp.pub_endpoint)
      << "\nerp.max_message_bytes = " << c.erp.max_message_bytes << "\n";
    if (c.erp.curve) {
        o << "erp.curve.server_secret_key_file = " << q(c.erp.curve->server_secret_key_file)
          << "\nerp.curve.server_secret_key = \"***\"\nerp.curve.allowed_clients = [";
        for (std::size_t i = 0; i < c.erp.curve->allowed_clients.size(); ++i)
            o << (i ? ", " : "") << q(c.erp.curve->allowed_clients[i]);  // public keys: not secret
        o << "]\n";
    }
    for (std::size_t i = 0; i < c.terminals.size(); ++i) {
        const auto& t = c.terminals[i];
        std::string p = "terminal[" + std::to_string(i) + "].";
        o << p << "id = " << q(t.id) << "\n"
          << p << "transport = " << q(transport_description(t)) << "\n"
          << p << "password = \"***\"\n"
          << p << "currency = " << q(std::string(t.currency.code())) << "\n"
          << p << "register = " << q(t.register_id) << "\n"
          << p << "receipt_printing = " << q(t.receipt_printing == ReceiptPrinting::ecr ? "ecr" : "terminal") << "\n"
          << p << "receipt_sync = " << (t.receipt_sync ? "true" : "false") << "\n"
          << p << "t1_ms = " << t.timeouts.t1.count() << "\n"
          << p << "t2_ms = " << t.timeouts.t2.count() << "\n"
          << p << "t3_ms = " << t.timeouts.t3.count() << "\n"
          << p << "t4_ms = " << t.timeouts.t4.count() << "\n"
          << p << "reconnect_initial_ms = " << t.reconnect.initial.count() << "\n"
          << p << "reconnect_max_ms = " << t.reconnect.max.count() << "\n";
    }
    o << "ledger.path = " << q(c.ledger.path) << "\nledger.timezone = " << q(c.ledger.timezone)
      << "\nledger.day_starts_at_minutes = " << c.ledger.day_starts_at.count() << "\n";
    for (std::size_t i = 0; i < c.issuers.size(); ++i) {
        const auto& is = c.issuers[i];
        o << "issuer[" << i << "] = " << q(is.id) << " " << q(is.name) << " account " << q(is.account) << " bins [";
        for (std::size_t b = 0; b < is.bins.size(); ++b)
            o << (b ? ", " : "") << is.bins[b].first << (is.bins[b].first == is.bins[b].last ? "" : "-" + is.bins[b].last);
        o << "]\n";
    }
    for (std::size_t i = 0; i < c.operators.size(); ++i) {
        const auto& op = c.operators[i];
        o << "operator[" << i << "] = " << q(op.id) << " " << q(op.name) << " rights [";
        for (std::size_t r = 0; r < op.rights.size(); ++r) o << (r ? ", " : "") << op.rights[r];
        o << "]\n";
    }
    o << "log.level = " << q(std::string(to_string(c.log.level))) << "\nlog.journald = "
      << (c.log.journald ? "true" : "false") << "\n";
    o << "http.enabled = " << (c.http.enabled ? "true" : "false") << "\nhttp.listen = "
      << q(c.http.listen_host + ":" + std::to_string(c.http.listen_port)) << "\n";
    auto service = [&](const std::string& name, const UpstreamServiceConfig* u) {
        const std::string p = "upstream." + name;
        if (!u) {
            o << p << " = none\n";
            return;
        }
        o << p << ".url = " << q(u->url) << "\n" << p << ".token = " << (u->token.empty() ? "\"\"" : "\"***\"") << "\n"
          << p << ".client_cert = " << q(u->client_cert) << "\n"
          << p << ".client_key = " << (u->client_key.empty() ? "\"\"" : "\"***\"") << "\n"
          << p << ".ca_file = " << q(u->ca_file) << "\n"
          << p << ".verify_peer = " << (u->verify_peer ? "true" : "false") << "\n"
          << p << ".timeout_ms = " << u->timeout.count() << "\n";
    };
    service("commitment", c.upstream.commitment ? &*c.upstream.commitment : nullptr);
    service("benefit", c.upstream.benefit ? &c.upstream.benefit->service : nullptr);
    if (const auto& b = c.upstream.benefit)
        o << "upstream.benefit.provider_id = " << q(b->provider_id) << "\nupstream.benefit.valid_minutes = "
          << b->valid.count() << "\nupstream.benefit.cancel_minutes = " << b->cancel.count()
          << "\nupstream.benefit.credit_days = " << b->credit.count() / 24 << "\n";
    if (const auto& e = c.upstream.ereceipt) {
        o << "upstream.ereceipt.url = " << q(e->service.url) << "\nupstream.ereceipt.token = "
          << (e->service.token.empty() ? "\"\"" : "\"***\"") << "\nupstream.ereceipt.public_url = " << q(e->public_url)
          << "\nupstream.ereceipt.jurisdiction = " << q(e->jurisdiction)
          << "\nupstream.ereceipt.email_mode = " << (e->email_link ? "\"link\"" : "\"attachment\"")
          << "\nupstream.ereceipt.qr_display_ms = " << e->qr_display.count()
          << "\nupstream.ereceipt.choice_timeout_ms = " << e->choice_timeout.count()
          << "\nupstream.ereceipt.retention_days = " << e->retention_days << "\n";
    } else {
        o << "upstream.ereceipt = none\n";
    }
    o << "upstream.outbox.retry_initial_ms = " << c.upstream.outbox.retry_initial.count()
      << "\nupstream.outbox.retry_max_ms = " << c.upstream.outbox.retry_max.count()
      << "\nupstream.outbox.dead_after_hours = " << c.upstream.outbox.dead_after.count() << "\n";
    o << "commitment_cards.iins = [";
    for (std::size_t i = 0; i < c.commitment_cards.iins.size(); ++i) o << (i ? ", " : "") << q(c.commitment_cards.iins[i]);
    o << "]\ncommitment_cards.id_prefix = " << q(c.commitment_cards.id_prefix)
      << "\ncommitment_cards.read_timeout_s = " << c.commitment_cards.read_timeout_s << "\n";
    return o.str();
}

std::string summary(const Config& c) {
    std::string out = std::to_string(c.terminals.size()) + (c.terminals.size() == 1 ? " terminal" : " terminals");
    if (!c.terminals.empty()) {
        out += " (";
        for (std::size_t i = 0; i < c.terminals.size(); ++i) out += (i ? ", " : "") + c.terminals[i].id;
        out += ")";
    }
    out += ", ERP " + c.erp.router_endpoint + (c.erp.curve ? " (CURVE, " + std::to_string(c.erp.curve->allowed_clients.size()) + " clients)" : "");
    out += ", ledger " + c.ledger.path;
    out += ", " + std::to_string(c.issuers.size()) + " issuers, " + std::to_string(c.operators.size()) + " operators";
    out += c.http.enabled ? ", dashboard " + c.http.listen_host + ":" + std::to_string(c.http.listen_port) : ", dashboard off";
    return out;
}

}  // namespace pb::daemon
