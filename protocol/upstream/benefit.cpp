#include "protocol/upstream/benefit.hpp"

#include <cstdio>

#include <boost/json.hpp>

#include "protocol/core/calendar.hpp"

namespace pb::upstream {

namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxAmount = 999'999'999'999;  // as the ERP protocol (12 BCD digits)
constexpr std::size_t kMaxId = 64;
constexpr std::int64_t kDayMs = 86'400'000;

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

template <class T>
Decoded<T> done(const Fields& f, T value) {
    if (!f.ok()) return unexpected(*f.error());
    return value;
}

std::int64_t read_time(Fields& f, std::string_view key, bool required) {
    std::string t = f.text(key, required, 20);
    if (t.empty() || !f.ok()) return 0;
    auto ms = parse_utc(t);
    if (!ms) {
        f.fail(f.pointer(key), "expected a UTC time YYYY-MM-DDTHH:MM:SSZ, got '" + t + "'");
        return 0;
    }
    return *ms;
}

Money read_money(Fields& f) {
    Money m;
    m.minor = f.integer("amount", true, 1, kMaxAmount);
    m.currency = f.currency("currency");
    return m;
}

void put_money(json::object& o, const Money& m) {
    o["amount"] = m.minor;
    o["currency"] = std::string(m.currency.code());
}

Decoded<json::object> parse_obj(std::string_view body) { return Fields::parse(body); }

/// What a cancel and a credit say about the purchase they undo.
template <class M>
void put_undo(json::object& o, const M& m) {
    o["voucher_id"] = m.voucher_id;
    o["provider_id"] = m.provider_id;
    o["payment_ref"] = m.payment_ref;
    put_money(o, m.amount);
    if (!m.reason.empty()) o["reason"] = m.reason;
}

template <class M>
void read_undo(Fields& f, M& m) {
    m.voucher_id = f.text("voucher_id", true, kMaxId);
    m.provider_id = f.text("provider_id", true, kMaxId);
    m.payment_ref = f.text("payment_ref", true, kMaxId);
    m.amount = read_money(f);
    m.reason = f.text("reason", false);
}

}  // namespace

std::string format_utc(std::int64_t utc_ms) {
    std::int64_t days = utc_ms >= 0 ? utc_ms / kDayMs : -((-utc_ms + kDayMs - 1) / kDayMs);
    std::int64_t rest = (utc_ms - days * kDayMs) / 1000;
    const CivilDate c = civil_from_days(days);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(c.year), c.month, c.day,
                  static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
                  static_cast<long long>(rest % 60));
    return buf;
}

std::optional<std::int64_t> parse_utc(std::string_view t) {
    if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z')
        return std::nullopt;
    auto num = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (t[i] < '0' || t[i] > '9') return std::nullopt;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), s = num(17, 2);
    if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*mo < 1 || *mo > 12 || *d < 1) return std::nullopt;
    if (*d > kDays[*mo - 1] + ((*mo == 2 && leap(*y)) ? 1 : 0)) return std::nullopt;
    if (*h > 23 || *mi > 59 || *s > 59) return std::nullopt;
    std::int64_t days = days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
    return days * kDayMs + (static_cast<std::int64_t>(*h) * 3600 + *mi * 60 + *s) * 1000;
}

std::string_view to_string(VoucherStatus s) {
    switch (s) {
        case VoucherStatus::valid: return "valid";
        case VoucherStatus::redeemed: return "redeemed";
        case VoucherStatus::cancelled: return "cancelled";
        case VoucherStatus::credited: return "credited";
    }
    return "valid";
}

// ---- verify ------------------------------------------------------------------------------

std::string encode(const VoucherVerifyRequest& m) {
    return json::serialize(json::object{{"voucher_id", m.voucher_id}, {"provider_id", m.provider_id}});
}

Decoded<VoucherVerifyRequest> parse_voucher_verify_request(std::string_view body) {
    auto obj = parse_obj(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    VoucherVerifyRequest m;
    m.voucher_id = f.text("voucher_id", true, kMaxId);
    m.provider_id = f.text("provider_id", true, kMaxId);
    return done(f, std::move(m));
}

std::string encode(const VoucherReply& m) {
    json::object o{{"voucher_id", m.voucher_id}, {"status", std::string(to_string(m.status))}, {"provider_id", m.provider_id}};
    put_money(o, m.amount);
    o["purchased_at"] = format_utc(m.purchased_at_ms);
    if (!m.redemption_id.empty()) o["redemption_id"] = m.redemption_id;
    return json::serialize(o);
}

Decoded<VoucherReply> parse_voucher_reply(std::string_view body) {
    auto obj = parse_obj(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    VoucherReply m;
    m.voucher_id = f.text("voucher_id", true, kMaxId);
    std::string status = f.text("status", true, 16);
    if (f.ok()) {
        if (status == "valid")
            m.status = VoucherStatus::valid;
        else if (status == "redeemed")
            m.status = VoucherStatus::redeemed;
        else if (status == "cancelled")
            m.status = VoucherStatus::cancelled;
        else if (status == "credited")
            m.status = VoucherStatus::credited;
        else
            f.fail("/status", "expected valid, redeemed, cancelled or credited, got '" + status + "'");
    }
    m.provider_id = f.text("provider_id", true, kMaxId);
    m.amount = read_money(f);
    m.purchased_at_ms = read_time(f, "purchased_at", true);
    m.redemption_id = f.text("redemption_id", false, kMaxId);
    return done(f, std::move(m));
}

// ---- redeem ------------------------------------------------------------------------------

std::string encode(const RedeemRequest& m) {
    json::object o{{"voucher_id", m.voucher_id},
                   {"provider_id", m.provider_id},
                   {"order_id", m.order_id},
                   {"payment_ref", m.payment_ref},
                   {"register", m.register_id}};
    put_money(o, m.amount);
    return json::serialize(o);
}

Decoded<RedeemRequest> parse_redeem_request(std::string_view body) {
    auto obj = parse_obj(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    RedeemRequest m;
    m.voucher_id = f.text("voucher_id", true, kMaxId);
    m.provider_id = f.text("provider_id", true, kMaxId);
    m.order_id = f.text("order_id", true, kMaxId);
    m.payment_ref = f.text("payment_ref", true, kMaxId);
    m.register_id = f.text("register", true, kMaxId);
    m.amount = read_money(f);
    return done(f, std::move(m));
}

std::string encode(const RedeemReply& m) {
    json::object o{{"redemption_id", m.redemption_id}, {"voucher_id", m.voucher_id}, {"provider_id", m.provider_id}};
    put_money(o, m.amount);
    o["purchased_at"] = format_utc(m.purchased_at_ms);
    o["redeemed_at"] = format_utc(m.redeemed_at_ms);
    return json::serialize(o);
}

Decoded<RedeemReply> parse_redeem_reply(std::string_view body) {
    auto obj = parse_obj(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    RedeemReply m;
    m.redemption_id = f.text("redemption_id", true, kMaxId);
    m.voucher_id = f.text("voucher_id", true, kMaxId);
    m.provider_id = f.text("provider_id", true, kMaxId);
    m.amount = read_money(f);
    m.purchased_at_ms = read_time(f, "purchased_at", true);
    m.redeemed_at_ms = read_time(f, "redeemed_at", true);
    return done(f, std::move(m));
}

// ---- cancel ------------------------------------------------------------------------------

std::string encode(const VoucherCancelRequest& m) {
    json::object o{{"redeem_key", m.redeem_key}};
    put_undo(o, m);
    return json::serialize(o);
}

Decoded<VoucherCancelRequest> parse_voucher_cancel_request(std::string_view body) {
    auto obj = parse_obj(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    VoucherCancelRequest m;
    m.redeem_key = f.text("redeem_key", true, 128);
    read_undo(f, m);
    return done(f, std::move(m));
}

std::string encode(const VoucherCancelReply& m) {
    json::object o{{"cancelled", m.cancelled}};
    if (!m.redemption_id.empty()) o["redemption_id"] = m.redemption_id;
    return json::serialize(o);
}

Decoded<VoucherCancelReply> parse_voucher_cancel_reply(std::string_view body) {
    auto obj = parse_obj(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    VoucherCancelReply m;
    m.cancelled = f.boolean("cancelled", true);
    m.redemption_id = f.text("redemption_id", m.cancelled, kMaxId);
    return done(f, std::move(m));
}

// ---- credit ------------------------------------------------------------------------------

std::string encode(const CreditRequest& m) {
    json::object o{{"redemption_id", m.redemption_id}};
    put_undo(o, m);
    return json::serialize(o);
}

Decoded<CreditRequest> parse_credit_request(std::string_view body) {
    auto obj = parse_obj(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    CreditRequest m;
    m.redemption_id = f.text("redemption_id", true, kMaxId);
    read_undo(f, m);
    return done(f, std::move(m));
}

std::string encode(const CreditReply& m) {
    json::object o{{"credit_id", m.credit_id}, {"redemption_id", m.redemption_id}};
    put_money(o, m.amount);
    return json::serialize(o);
}

Decoded<CreditReply> parse_credit_reply(std::string_view body) {
    auto obj = parse_obj(body);
    if (!obj) return unexpected(obj.error());
    Fields f(*obj, "");
    CreditReply m;
    m.credit_id = f.text("credit_id", true, kMaxId);
    m.redemption_id = f.text("redemption_id", true, kMaxId);
    m.amount = read_money(f);
    return done(f, std::move(m));
}

// ---- windows -----------------------------------------------------------------------------

namespace {
BenefitWindows::Verdict within(std::int64_t purchased, std::int64_t now, std::int64_t window, std::int64_t skew) {
    if (now < purchased - skew) return BenefitWindows::Verdict::not_yet;
    return now <= purchased + window ? BenefitWindows::Verdict::inside : BenefitWindows::Verdict::expired;
}
}  // namespace

BenefitWindows::Verdict BenefitWindows::redeemable(std::int64_t purchased_ms, std::int64_t now_ms) const {
    return within(purchased_ms, now_ms, valid_ms, skew_ms);
}
BenefitWindows::Verdict BenefitWindows::cancellable(std::int64_t purchased_ms, std::int64_t now_ms) const {
    return within(purchased_ms, now_ms, cancel_ms, skew_ms);
}
BenefitWindows::Verdict BenefitWindows::creditable(std::int64_t purchased_ms, std::int64_t now_ms) const {
    return within(purchased_ms, now_ms, credit_ms, skew_ms);
}

}  // namespace pb::upstream
