// Queries: payments, interim, history, operators, issuers.
#include <algorithm>
#include <sstream>

#include "ledger/ledger.hpp"
#include "ledger/sha256.hpp"
#include "ledger/store.hpp"

namespace pb::ledger {
using detail::guarded;
using detail::Stmt;

namespace detail {

std::vector<std::string> split_csv(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace detail

Result<Payment> Reader::payment(PaymentId id) const {
    return guarded([&]() -> Result<Payment> {
        if (auto p = s_->load(id)) return *p;
        return pb::unexpected(Error{Errc::not_found, "no payment " + std::to_string(id.value)});
    });
}

Result<Payment> Reader::by_request_key(std::string_view key) const {
    return guarded([&]() -> Result<Payment> {
        if (auto p = s_->load_by_key(key)) return *p;
        return pb::unexpected(Error{Errc::not_found, "no payment with request key '" + std::string(key) + "'"});
    });
}

Result<std::vector<Payment>> Reader::by_order(std::string_view order_id) const {
    return guarded([&]() -> Result<std::vector<Payment>> {
        return s_->select("order_id = ?", [&](Stmt& s) { s.bind(1, order_id); });
    });
}

Result<std::vector<Payment>> Reader::pending_recovery(std::string_view terminal_id) const {
    return guarded([&]() -> Result<std::vector<Payment>> {
        return s_->select("terminal_id = ? AND state IN ('requested','sent','unknown')",
                          [&](Stmt& s) { s.bind(1, terminal_id); });
    });
}

Result<std::vector<Payment>> Reader::interim() const {
    return guarded([&]() -> Result<std::vector<Payment>> {
        return s_->select("state IN ('aborted','unknown')", nullptr);
    });
}

Result<std::vector<Payment>> Reader::history(const HistoryFilter& f) const {
    return guarded([&]() -> Result<std::vector<Payment>> {
        std::string where;
        std::vector<std::string> args;
        auto add = [&](const char* clause, const std::string& value) {
            if (!where.empty()) where += " AND ";
            where += clause;
            args.push_back(value);
        };
        if (f.date_from) add("business_date >= ?", *f.date_from);
        if (f.date_to) add("business_date <= ?", *f.date_to);
        if (f.order_id) add("order_id = ?", *f.order_id);
        if (f.register_id) add("register_id = ?", *f.register_id);
        if (f.terminal_id) add("terminal_id = ?", *f.terminal_id);
        if (f.operator_id) add("operator_id = ?", *f.operator_id);
        if (f.issuer_id) add("issuer_id = ?", *f.issuer_id);
        if (f.state) add("state = ?", std::string(state_id(*f.state)));
        if (f.tender) add("tender = ?", std::string(tender_id(*f.tender)));
        if (where.empty()) where = "1";
        if (f.after) where += " AND id > ?";
        where += " ORDER BY id LIMIT ?";
        return s_->select(where, [&](Stmt& s) {
            int i = 1;
            for (const auto& a : args) s.bind(i++, a);
            if (f.after) s.bind(i++, f.after->value);
            s.bind(i, static_cast<std::int64_t>(f.limit));
        });
    });
}

Result<std::optional<std::int64_t>> Reader::last_receipt_no(std::string_view terminal_id) const {
    return guarded([&]() -> Result<std::optional<std::int64_t>> {
        auto st = s_->db.prepare(
            "SELECT receipt_no FROM payments INDEXED BY payments_terminal_id "
            "WHERE terminal_id = ? AND receipt_no IS NOT NULL ORDER BY id DESC LIMIT 1");
        st.bind(1, terminal_id);
        if (!st.step()) return std::optional<std::int64_t>{};
        return std::optional<std::int64_t>{st.i64(0)};
    });
}

Result<std::optional<Event>> Reader::last_event(std::string_view subject) const {
    return guarded([&]() -> Result<std::optional<Event>> {
        auto st = s_->db.prepare(
            "SELECT seq, kind, subject, at_utc_ms, body, hash FROM events WHERE subject = ? ORDER BY seq DESC LIMIT 1");
        st.bind(1, subject);
        if (!st.step()) return std::optional<Event>{};
        auto h = st.blob(5);
        return std::optional<Event>{Event{st.i64(0), st.text(1), st.text(2), st.i64(3), st.text(4), detail::hex(h.data(), h.size())}};
    });
}

Result<std::optional<Event>> Reader::last_event(std::string_view subject, std::string_view kind,
                                               std::int64_t before_seq) const {
    return guarded([&]() -> Result<std::optional<Event>> {
        auto st = s_->db.prepare(
            "SELECT seq, kind, subject, at_utc_ms, body, hash FROM events "
            "WHERE subject = ? AND kind = ? AND seq < ? ORDER BY seq DESC LIMIT 1");
        st.bind(1, subject);
        st.bind(2, kind);
        st.bind(3, before_seq);
        if (!st.step()) return std::optional<Event>{};
        auto h = st.blob(5);
        return std::optional<Event>{Event{st.i64(0), st.text(1), st.text(2), st.i64(3), st.text(4), detail::hex(h.data(), h.size())}};
    });
}

Result<std::vector<Event>> Reader::events_of(PaymentId id) const {
    return guarded([&]() -> Result<std::vector<Event>> {
        auto st = s_->db.prepare(
            "SELECT seq, kind, subject, at_utc_ms, body, hash FROM events "
            "WHERE subject = ? AND kind LIKE 'payment.%' ORDER BY seq");
        st.bind(1, std::to_string(id.value));
        std::vector<Event> out;
        while (st.step()) {
            auto h = st.blob(5);
            out.push_back(Event{st.i64(0), st.text(1), st.text(2), st.i64(3), st.text(4), detail::hex(h.data(), h.size())});
        }
        return out;
    });
}

bool Reader::may(std::string_view operator_id, Right right) const {
    auto r = guarded([&]() -> Result<bool> {
        auto st = s_->db.prepare(
            "SELECT 1 FROM operators o JOIN operator_roles r ON r.operator_id = o.id "
            "JOIN roles ro ON ro.name = r.role WHERE o.id = ? AND o.active = 1 "
            "AND (',' || ro.rights || ',') LIKE ('%,' || ? || ',%') LIMIT 1");
        st.bind(1, operator_id).bind(2, right_id(right));
        return st.step();
    });
    return r && *r;
}

Result<Operator> Reader::get_operator(std::string_view id) const {
    return guarded([&]() -> Result<Operator> {
        auto st = s_->db.prepare("SELECT id, name, active FROM operators WHERE id = ?");
        st.bind(1, id);
        if (!st.step()) return pb::unexpected(Error{Errc::not_found, "no operator '" + std::string(id) + "'"});
        Operator op{st.text(0), st.text(1), {}, st.i64(2) != 0};
        auto rs = s_->db.prepare("SELECT role FROM operator_roles WHERE operator_id = ? ORDER BY role");
        rs.bind(1, id);
        while (rs.step()) op.roles.push_back(rs.text(0));
        return op;
    });
}

Result<std::vector<Operator>> Reader::operators() const {
    return guarded([&]() -> Result<std::vector<Operator>> {
        std::vector<std::string> ids;
        {
            auto st = s_->db.prepare("SELECT id FROM operators ORDER BY id");
            while (st.step()) ids.push_back(st.text(0));
        }
        std::vector<Operator> out;
        for (const auto& id : ids) {
            auto op = get_operator(id);
            if (!op) return pb::unexpected(op.error());
            out.push_back(std::move(*op));
        }
        return out;
    });
}

Result<std::vector<Role>> Reader::roles() const {
    return guarded([&]() -> Result<std::vector<Role>> {
        auto st = s_->db.prepare("SELECT name, rights FROM roles ORDER BY name");
        std::vector<Role> out;
        while (st.step()) {
            Role r{st.text(0), {}};
            for (const auto& id : detail::split_csv(st.text(1)))
                if (auto right = right_from_id(id)) r.rights.push_back(*right);
            out.push_back(std::move(r));
        }
        return out;
    });
}

Result<IssuerConfig> Reader::issuers() const {
    return guarded([&]() -> Result<IssuerConfig> {
        IssuerConfig c;
        auto st = s_->db.prepare("SELECT id, name, account, brands FROM issuers ORDER BY id");
        while (st.step()) {
            Issuer i{st.text(0), st.text(1), st.text(2), {}};
            for (const auto& b : detail::split_csv(st.text(3)))
                if (auto brand = brand_from_id(b)) i.brands.push_back(*brand);
            c.issuers.push_back(std::move(i));
        }
        auto br = s_->db.prepare("SELECT first, last, issuer_id FROM bin_ranges ORDER BY first, last");
        while (br.step()) c.bin_ranges.push_back(BinRange{br.text(0), br.text(1), br.text(2)});
        return c;
    });
}

Result<Issuer> Reader::resolve_issuer(CardBrand brand, const MaskedPan& pan) const {
    auto cfg = issuers();
    if (!cfg) return pb::unexpected(cfg.error());
    const std::string lead = pan.leading_digits();
    const BinRange* best = nullptr;
    auto width = [](const BinRange& r) { return std::stoll(r.last) - std::stoll(r.first); };
    for (const auto& r : cfg->bin_ranges) {
        const auto n = r.first.size();
        if (n == 0 || lead.size() < n) continue;
        const std::string head = lead.substr(0, n);
        if (head < r.first || head > r.last) continue;
        if (!best || n > best->first.size() || (n == best->first.size() && width(r) < width(*best))) best = &r;
    }
    for (const auto& i : cfg->issuers) {
        if (best && i.id == best->issuer_id) return i;
    }
    if (brand != CardBrand::unknown) {
        for (const auto& i : cfg->issuers)
            if (std::find(i.brands.begin(), i.brands.end(), brand) != i.brands.end()) return i;
    }
    return pb::unexpected(Error{Errc::not_found, "no issuer for brand '" + std::string(brand_id(brand)) +
                                                     "' and card '" + pan.str() + "'"});
}

}  // namespace pb::ledger
