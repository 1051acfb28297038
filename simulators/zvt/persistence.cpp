#include "simulators/zvt/persistence.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/zvt/apdu.hpp"

namespace pb::sim {

namespace json = boost::json;

namespace {

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string utc_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    std::tm tm{};
    ::gmtime_r(&ts.tv_sec, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ts.tv_nsec / 1000000) % 1000);
    return buf;
}

bool write_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        off += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

JournalWriter::~JournalWriter() {
    if (fd_ >= 0) ::close(fd_);
}

Expected<void, std::string> JournalWriter::open(const std::string& path) {
    path_ = path;
    if (path.empty()) return {};
    // Continue the sequence of an existing journal.
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) ++seq_;
    }
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return unexpected(sys_error("cannot open journal " + path));
    return {};
}

Expected<void, std::string> JournalWriter::append(json::object record) {
    json::object line;
    line["seq"] = ++seq_;
    line["time"] = utc_now();
    for (auto& kv : record) line[kv.key()] = std::move(kv.value());
    if (fd_ < 0) return {};
    std::string text = json::serialize(line) + "\n";
    if (!write_all(fd_, text) || ::fsync(fd_) != 0) return unexpected(sys_error("journal write " + path_));
    return {};
}

json::object state_to_json(const PersistentState& s) {
    json::array batch;
    for (const auto& r : s.batch) {
        json::object o{{"kind", tx_kind_name(r.kind)}, {"amount", r.amount},      {"receipt", r.receipt},
                       {"trace", r.trace},             {"turnover", r.turnover},  {"brand", brand_id(r.brand)},
                       {"pan", r.masked_pan},          {"reversed", r.reversed}, {"sync_pending", r.sync_pending}};
        if (r.ref_receipt) o["ref_receipt"] = *r.ref_receipt;
        batch.push_back(std::move(o));
    }
    json::object o{{"trace", s.trace}, {"receipt", s.receipt}, {"turnover", s.turnover}, {"batch", std::move(batch)}};
    if (!s.last_status_committed) o["last_status_committed"] = false;
    if (s.last_status_info) {
        o["last_status_info"] = to_hex(zvt::encode_apdu(zvt::encode_message(*s.last_status_info)), false);
    }
    return o;
}

Expected<PersistentState, std::string> state_from_json(const json::value& v) {
    PersistentState s;
    try {
        const auto& o = v.as_object();
        s.trace = o.at("trace").to_number<std::uint32_t>();
        s.receipt = o.at("receipt").to_number<std::uint16_t>();
        s.turnover = o.at("turnover").to_number<std::uint32_t>();
        for (const auto& e : o.at("batch").as_array()) {
            const auto& r = e.as_object();
            TxRecord t;
            auto kind = tx_kind_from_name(r.at("kind").as_string());
            if (!kind) return unexpected(std::string("unknown transaction kind in state file"));
            t.kind = *kind;
            t.amount = r.at("amount").to_number<std::int64_t>();
            t.receipt = r.at("receipt").to_number<std::uint16_t>();
            t.trace = r.at("trace").to_number<std::uint32_t>();
            t.turnover = r.at("turnover").to_number<std::uint32_t>();
            t.brand = brand_from_id(r.at("brand").as_string()).value_or(CardBrand::unknown);
            t.masked_pan = std::string(r.at("pan").as_string());
            t.reversed = r.at("reversed").as_bool();
            t.sync_pending = r.at("sync_pending").as_bool();
            if (r.contains("ref_receipt")) t.ref_receipt = r.at("ref_receipt").to_number<std::uint16_t>();
            s.batch.push_back(std::move(t));
        }
        if (o.contains("last_status_committed")) s.last_status_committed = o.at("last_status_committed").as_bool();
        if (o.contains("last_status_info")) {
            auto bytes = from_hex(o.at("last_status_info").as_string());
            if (!bytes) return unexpected(std::string("bad last_status_info hex in state file"));
            auto apdu = zvt::decode_apdu(*bytes);
            if (!apdu) return unexpected("bad last_status_info: " + apdu.error().to_string());
            auto m = zvt::decode_message(*apdu);
            if (!m) return unexpected("bad last_status_info: " + m.error().to_string());
            s.last_status_info = *m;
        }
    } catch (const std::exception& e) {
        // Boost.JSON accessors throw on a wrong shape; the state file is outside input.
        return unexpected(std::string("malformed state file: ") + e.what());
    }
    return s;
}

Expected<PersistentState, std::string> load_state(const std::string& path) {
    std::ifstream in(path);
    if (!in) return PersistentState{};
    std::stringstream buf;
    buf << in.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(buf.str(), ec);
    if (ec) return unexpected(path + ": " + ec.message());
    auto s = state_from_json(v);
    if (!s) return unexpected(path + ": " + s.error());
    return s;
}

Expected<void, std::string> save_state(const std::string& path, const PersistentState& s) {
    if (path.empty()) return {};
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return unexpected(sys_error("cannot write " + tmp));
    std::string text = json::serialize(state_to_json(s)) + "\n";
    bool ok = write_all(fd, text) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return unexpected(sys_error("cannot write " + tmp));
    if (::rename(tmp.c_str(), path.c_str()) != 0) return unexpected(sys_error("cannot rename " + tmp));
    std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    if (dir.empty()) dir = "/";
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

}  // namespace pb::sim
