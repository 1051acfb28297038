#include "ledger/finance_common.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "ledger/store.hpp"
#include "protocol/core/calendar.hpp"

namespace pb::ledger::finance {

std::string format_minor(std::int64_t minor, int exponent) {
    const bool neg = minor < 0;
    // Work in unsigned so INT64_MIN does not overflow.
    std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
    std::string digits = std::to_string(u);
    if (exponent > 0) {
        const auto e = static_cast<std::size_t>(exponent);
        if (digits.size() <= e) digits.insert(0, e + 1 - digits.size(), '0');
        digits.insert(digits.size() - e, 1, '.');
    }
    return neg ? "-" + digits : digits;
}

std::optional<std::int64_t> parse_minor(std::string_view t, int exponent) {
    bool neg = false;
    if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
        neg = t[0] == '-';
        t.remove_prefix(1);
    }
    if (t.empty() || t.size() > 18) return std::nullopt;
    std::int64_t whole = 0, frac = 0;
    int frac_digits = 0, whole_digits = 0;
    bool dot = false, any = false;
    for (char c : t) {
        if (c == '.') {
            if (dot) return std::nullopt;
            dot = true;
            continue;
        }
        if (c < '0' || c > '9') return std::nullopt;
        any = true;
        if (dot) {
            if (++frac_digits > exponent) return std::nullopt;
            frac = frac * 10 + (c - '0');
        } else {
            // 15 whole digits keep whole * 10^exponent far inside int64 (no signed overflow).
            if (++whole_digits > 15) return std::nullopt;
            whole = whole * 10 + (c - '0');
        }
    }
    if (!any || exponent < 0 || exponent > 3) return std::nullopt;
    for (int i = frac_digits; i < exponent; ++i) frac *= 10;
    std::int64_t scale = 1;
    for (int i = 0; i < exponent; ++i) scale *= 10;
    const std::int64_t v = whole * scale + frac;
    return neg ? -v : v;
}

namespace {
bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int month_days(std::int64_t y, int m) {
    static constexpr int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}
}  // namespace

bool valid_date(std::string_view d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (d[i] < '0' || d[i] > '9') return false;
    const int y = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    const int m = (d[5] - '0') * 10 + (d[6] - '0');
    const int day = (d[8] - '0') * 10 + (d[9] - '0');
    return y >= 1970 && m >= 1 && m <= 12 && day >= 1 && day <= month_days(y, m);
}

std::int64_t days_from_date(std::string_view d) {
    return days_from_civil(std::stoll(std::string(d.substr(0, 4))),
                           static_cast<unsigned>(std::stoi(std::string(d.substr(5, 2)))),
                           static_cast<unsigned>(std::stoi(std::string(d.substr(8, 2)))));
}

std::string date_from_days(std::int64_t z) {
    const CivilDate c = civil_from_days(z);
    // Sized for any int64 year so the output can never be cut (-Wformat-truncation).
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month, c.day);
    return buf;
}

std::string date_of_utc_ms(std::int64_t utc_ms) {
    std::int64_t days = utc_ms / 86'400'000;
    if (utc_ms < 0 && utc_ms % 86'400'000 != 0) --days;
    return date_from_days(days);
}

namespace {
std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

std::string issuer_for_name(const IssuerConfig& config, std::string_view name) {
    const std::string n = lower(name);
    for (const auto& i : config.issuers)
        if (lower(i.id) == n || lower(i.name) == n) return i.id;
    // ZVT BMP 60 bucket names ([ZVT-CMD] §2.16 end-of-day, "totals" BMP 60 sub-fields).
    std::string brand = n;
    if (n == "eurocard" || n == "ec/mc" || n == "mastercard/eurocard") brand = "mastercard";
    if (n == "american express" || n == "american_express") brand = "amex";
    if (n == "diners club" || n == "diners_club") brand = "diners";
    if (auto b = brand_from_id(brand)) {
        for (const auto& i : config.issuers)
            if (std::find(i.brands.begin(), i.brands.end(), *b) != i.brands.end()) return i.id;
    }
    if (n == "others" || n == "other" || n == "remaining") return "other";
    return n;
}

std::int64_t chain_head(detail::Store& s) {
    return s.db.scalar("SELECT coalesce(max(seq), 0) FROM events").value_or(0);
}

std::int64_t last_seq_of(detail::Store& s, std::string_view subject) {
    auto st = s.db.prepare("SELECT coalesce(max(seq), 0) FROM events WHERE subject = ?");
    st.bind(1, subject);
    return st.step() ? st.i64(0) : 0;
}

std::vector<Movement> movements(detail::Store& s, std::int64_t from_seq, std::int64_t to_seq, Tender tender,
                                std::string_view terminal_id, std::string_view register_id) {
    // The window is a seq range of the journal. Every payment event sets the payment's
    // last_event_seq, so a payment with an event in the window has last_event_seq > from_seq:
    // with a terminal (register) filter, the payments_terminal_seq (payments_register_seq)
    // index yields the candidates and each one's events come from events(subject, seq) --
    // the cost follows the window's payments of that terminal, not the whole journal (a
    // terminal never closed over a 1,000,000-payment ledger: 2 s before, see docs/finance.md).
    // Without a filter the window itself is scanned on the journal's primary key.
    static constexpr const char* kCols =
        "SELECT e.seq, e.kind, p.id, p.amount_minor, p.currency, p.issuer_id, p.register_id, p.terminal_id, "
        "p.state ";
    static constexpr const char* kKinds =
        "e.kind IN ('payment.approved','payment.reversed','payment.refunded','payment.aborted','payment.unknown') "
        "AND p.tender = ?3 ";
    std::string sql = kCols;
    if (!terminal_id.empty() || !register_id.empty()) {
        const bool by_terminal = !terminal_id.empty();
        sql += std::string("FROM payments p INDEXED BY ") +
               (by_terminal ? "payments_terminal_seq" : "payments_register_seq") +
               " JOIN events e ON e.subject = CAST(p.id AS TEXT) AND e.seq > ?1 AND e.seq <= ?2 "
               "WHERE p." + (by_terminal ? "terminal_id = ?4" : "register_id = ?5") +
               " AND p.last_event_seq > ?1 AND (?4 = '' OR p.terminal_id = ?4) AND (?5 = '' OR p.register_id = ?5) "
               "AND " + kKinds;
    } else {
        sql += "FROM events e JOIN payments p ON p.id = CAST(e.subject AS INTEGER) "
               "WHERE e.seq > ?1 AND e.seq <= ?2 AND ";
        sql += kKinds;
    }
    sql += "ORDER BY e.seq";
    auto st = s.db.prepare(sql);
    st.bind(1, from_seq).bind(2, to_seq).bind(3, tender_id(tender)).bind(4, terminal_id).bind(5, register_id);
    std::vector<Movement> out;
    while (st.step()) {
        Movement m;
        m.seq = st.i64(0);
        m.kind = st.text(1);
        m.payment_id = st.i64(2);
        m.amount_minor = st.i64(3);
        m.currency = st.text(4);
        m.issuer_id = st.text(5);
        m.register_id = st.text(6);
        m.terminal_id = st.text(7);
        m.state = st.text(8);
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<RawEvent> events_with_prefix(detail::Store& s, std::string_view prefix) {
    // A subject range scan on the events(subject, seq) index: prefix <= subject < prefix+1.
    std::string upper(prefix);
    upper.back() = static_cast<char>(upper.back() + 1);
    auto st = s.db.prepare(
        "SELECT seq, kind, subject, at_utc_ms, body FROM events WHERE subject >= ? AND subject < ? ORDER BY seq");
    st.bind(1, prefix).bind(2, upper);
    std::vector<RawEvent> out;
    while (st.step()) out.push_back(RawEvent{st.i64(0), st.text(1), st.text(2), st.i64(3), st.text(4)});
    return out;
}

std::string jstr(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t jint(const boost::json::object& o, std::string_view key, std::int64_t fallback) {
    auto* v = o.if_contains(key);
    if (!v) return fallback;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    return fallback;
}

namespace {
// Display width in code points (UTF-8 continuation bytes do not count).
std::size_t width(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}
}  // namespace

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right) {
    std::vector<std::size_t> w(header.size(), 0);
    for (std::size_t i = 0; i < header.size(); ++i) w[i] = width(header[i]);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (std::size_t i = 0; i < w.size(); ++i) {
            const std::string cell = i < cells.size() ? cells[i] : std::string();
            const std::string pad(w[i] - width(cell), ' ');
            const bool r = i < right.size() && right[i];
            if (i) out += "  ";
            out += r ? pad + cell : (i + 1 == w.size() ? cell : cell + pad);
        }
        return out + "\n";
    };
    std::string out = line(header);
    std::string rule;
    for (std::size_t i = 0; i < w.size(); ++i) rule += (i ? "  " : "") + std::string(w[i], '-');
    out += rule + "\n";
    for (const auto& r : rows) out += line(r);
    return out;
}

}  // namespace pb::ledger::finance
