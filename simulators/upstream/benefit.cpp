#include "simulators/upstream/benefit.hpp"

#include <boost/json.hpp>

#include <cstdio>

#include "protocol/upstream/benefit.hpp"
#include "simulators/upstream/service.hpp"

namespace pb::sim::upstream {

namespace json = boost::json;
namespace up = pb::upstream;

namespace {

Answer error(unsigned status, std::string code, std::string message, std::string field = {}) {
    up::ServiceError e;
    e.status = static_cast<int>(status);
    e.code = std::move(code);
    e.message = std::move(message);
    e.field = std::move(field);
    return {status, up::encode_service_error(e)};
}

Answer malformed(const up::MalformedError& e) { return error(400, "malformed_request", e.to_string(), e.field); }

std::string numbered(const char* prefix, std::size_t n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s-%06zu", prefix, n);
    return buf;
}

std::string str(const json::object& o, std::string_view k) {
    auto it = o.find(k);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string{};
}

std::int64_t i64(const json::object& o, std::string_view k, std::int64_t fallback) {
    auto it = o.find(k);
    return it != o.end() && it->value().is_int64() ? it->value().get_int64() : fallback;
}

Money money(std::int64_t minor, const std::string& currency) {
    return Money{minor, currency_from_code(currency).value_or(Currency{})};
}

}  // namespace

Answer BenefitService::handle(const std::string& path, const std::string& body, const std::string& key,
                              std::int64_t now_ms) {
    if (path == up::kVoucherVerifyPath) return verify(body);
    if (key.empty()) return error(400, "malformed_request", "Idempotency-Key header is required");
    if (path == up::kVoucherRedeemPath) return redeem(body, key, now_ms);
    if (path == up::kVoucherCancelPath) return cancel(body);
    if (path == up::kVoucherCreditPath) return credit(body);
    return error(404, "not_found", "no service at " + path);
}

Answer BenefitService::verify(const std::string& body) {
    auto req = up::parse_voucher_verify_request(body);
    if (!req) return malformed(req.error());
    auto it = vouchers_.find(req->voucher_id);
    if (it == vouchers_.end()) return error(404, "voucher_unknown", "no voucher '" + req->voucher_id + "'", "/voucher_id");
    const Voucher& v = it->second;
    // Answered whoever asks: the shop compares the provider (README §5); redeem refuses.
    up::VoucherReply rep;
    rep.voucher_id = v.voucher_id;
    rep.status = v.status == "redeemed"    ? up::VoucherStatus::redeemed
                 : v.status == "cancelled" ? up::VoucherStatus::cancelled
                 : v.status == "credited"  ? up::VoucherStatus::credited
                                           : up::VoucherStatus::valid;
    rep.provider_id = v.provider_id;
    rep.amount = money(v.amount, v.currency);
    rep.purchased_at_ms = v.purchased_at_ms;
    rep.redemption_id = v.redemption_id;
    return {200, up::encode(rep)};
}

Answer BenefitService::redeem(const std::string& body, const std::string& key, std::int64_t now_ms) {
    auto req = up::parse_redeem_request(body);
    if (!req) return malformed(req.error());
    if (cancelled_keys_.count(key))
        return error(422, "redeem_cancelled", "this redemption was cancelled before it arrived", "/voucher_id");
    auto it = vouchers_.find(req->voucher_id);
    if (it == vouchers_.end()) return error(404, "voucher_unknown", "no voucher '" + req->voucher_id + "'", "/voucher_id");
    Voucher& v = it->second;
    if (v.provider_id != req->provider_id)
        return error(422, "provider_mismatch", "voucher " + v.voucher_id + " was bought for provider " + v.provider_id,
                     "/provider_id");
    if (v.status != "valid")
        return error(422, "voucher_used", "voucher " + v.voucher_id + " is already " + v.status, "/voucher_id");
    if (now_ms > v.purchased_at_ms + (v.valid_ms > 0 ? v.valid_ms : valid_ms))
        return error(422, "voucher_expired", "voucher " + v.voucher_id + " was bought at " + up::format_utc(v.purchased_at_ms) +
                                                 " and is no longer valid", "/voucher_id");
    if (req->amount.currency.code() != v.currency)
        return error(422, "currency_mismatch", "the voucher is in " + v.currency, "/currency");
    if (req->amount.minor != v.amount)
        return error(422, "amount_mismatch", "the voucher is worth " + std::to_string(v.amount), "/amount");
    Redemption r;
    r.redemption_id = numbered("rd", redemptions_.size() + 1);
    r.redeem_key = key;
    r.voucher_id = v.voucher_id;
    r.provider_id = v.provider_id;
    r.order_id = req->order_id;
    r.payment_ref = req->payment_ref;
    r.register_id = req->register_id;
    r.currency = v.currency;
    r.amount = v.amount;
    r.redeemed_at_ms = now_ms;
    redemptions_.push_back(r);
    v.status = "redeemed";
    v.redemption_id = r.redemption_id;
    up::RedeemReply rep;
    rep.redemption_id = r.redemption_id;
    rep.voucher_id = v.voucher_id;
    rep.provider_id = v.provider_id;
    rep.amount = money(v.amount, v.currency);
    rep.purchased_at_ms = v.purchased_at_ms;
    rep.redeemed_at_ms = now_ms - now_ms % 1000;  // the wire carries whole seconds
    return {201, up::encode(rep)};
}

Answer BenefitService::cancel(const std::string& body) {
    auto req = up::parse_voucher_cancel_request(body);
    if (!req) return malformed(req.error());
    up::VoucherCancelReply rep;
    for (auto& r : redemptions_) {
        if (r.redeem_key != req->redeem_key) continue;
        if (r.state == "credited")
            return error(422, "redemption_closed", "redemption " + r.redemption_id + " is already credited", "/redeem_key");
        if (r.state == "redeemed") {
            // A void of an unanswered redeem gives the customer the voucher back; the cashier's
            // cancel of a wrong purchase ends it (README §5 "cancel").
            const bool void_only = req->reason == "unanswered";
            r.state = void_only ? "voided" : "cancelled";
            if (auto v = vouchers_.find(r.voucher_id); v != vouchers_.end()) {
                v->second.status = void_only ? "valid" : "cancelled";
                if (void_only) v->second.redemption_id.clear();
            }
        }
        rep.cancelled = true;
        rep.redemption_id = r.redemption_id;
        return {200, up::encode(rep)};
    }
    cancelled_keys_.insert(req->redeem_key);
    return {200, up::encode(rep)};
}

Answer BenefitService::credit(const std::string& body) {
    auto req = up::parse_credit_request(body);
    if (!req) return malformed(req.error());
    for (auto& r : redemptions_) {
        if (r.redemption_id != req->redemption_id) continue;
        if (r.state != "redeemed")
            return error(422, "redemption_closed", "redemption " + r.redemption_id + " is already " + r.state, "/redemption_id");
        if (req->amount.minor != r.amount)
            return error(422, "amount_mismatch", "redemption " + r.redemption_id + " was " + std::to_string(r.amount), "/amount");
        r.state = "credited";
        r.credit_id = "cr-" + r.redemption_id.substr(3);
        if (auto v = vouchers_.find(r.voucher_id); v != vouchers_.end()) v->second.status = "credited";
        up::CreditReply rep;
        rep.credit_id = r.credit_id;
        rep.redemption_id = r.redemption_id;
        rep.amount = money(r.amount, r.currency);
        return {200, up::encode(rep)};
    }
    return error(404, "redemption_unknown", "no redemption '" + req->redemption_id + "'", "/redemption_id");
}

Expected<void, std::string> BenefitService::issue(const json::object& spec, std::int64_t now_ms) {
    Voucher v;
    v.voucher_id = str(spec, "voucher_id");
    if (v.voucher_id.empty()) return unexpected(std::string("voucher: voucher_id is required"));
    if (vouchers_.count(v.voucher_id)) return unexpected("voucher: " + v.voucher_id + " exists already");
    v.provider_id = str(spec, "provider_id");
    if (v.provider_id.empty()) return unexpected(std::string("voucher: provider_id is required"));
    v.amount = i64(spec, "amount", -1);
    if (v.amount <= 0) return unexpected(std::string("voucher: amount must be a positive integer (minor units)"));
    if (auto c = str(spec, "currency"); !c.empty()) v.currency = c;
    if (!currency_from_code(v.currency)) return unexpected("voucher: unknown currency '" + v.currency + "'");
    if (auto at = str(spec, "purchased_at"); !at.empty()) {
        auto ms = up::parse_utc(at);
        if (!ms) return unexpected("voucher: purchased_at must be YYYY-MM-DDTHH:MM:SSZ, got '" + at + "'");
        v.purchased_at_ms = *ms;
    } else {
        const std::int64_t age = i64(spec, "age_seconds", 0);
        if (age < 0) return unexpected(std::string("voucher: age_seconds must be >= 0"));
        v.purchased_at_ms = (now_ms - age * 1000) / 1000 * 1000;
    }
    const std::int64_t life = i64(spec, "valid_seconds", 0);
    if (life < 0) return unexpected(std::string("voucher: valid_seconds must be >= 0"));
    v.valid_ms = life * 1000;
    vouchers_[v.voucher_id] = v;
    return {};
}

json::object BenefitService::to_json() const {
    json::array vs;
    for (const auto& [id, v] : vouchers_)
        vs.push_back(json::object{{"voucher_id", v.voucher_id},
                                  {"provider_id", v.provider_id},
                                  {"amount", v.amount},
                                  {"currency", v.currency},
                                  {"purchased_at", up::format_utc(v.purchased_at_ms)},
                                  {"valid_ms", v.valid_ms},
                                  {"status", v.status},
                                  {"redemption_id", v.redemption_id}});
    json::array rs;
    for (const auto& r : redemptions_)
        rs.push_back(json::object{{"redemption_id", r.redemption_id},
                                  {"redeem_key", r.redeem_key},
                                  {"voucher_id", r.voucher_id},
                                  {"provider_id", r.provider_id},
                                  {"order_id", r.order_id},
                                  {"payment_ref", r.payment_ref},
                                  {"register", r.register_id},
                                  {"currency", r.currency},
                                  {"amount", r.amount},
                                  {"redeemed_at_ms", r.redeemed_at_ms},
                                  {"state", r.state},
                                  {"credit_id", r.credit_id}});
    json::array keys;
    for (const auto& k : cancelled_keys_) keys.emplace_back(k);
    return json::object{{"vouchers", std::move(vs)}, {"redemptions", std::move(rs)}, {"cancelled_keys", std::move(keys)}};
}

Expected<void, std::string> BenefitService::from_json(const json::object& o) {
    try {
        BenefitService s;
        s.valid_ms = valid_ms;
        for (const auto& vv : o.at("vouchers").as_array()) {
            const auto& x = vv.as_object();
            Voucher v;
            v.voucher_id = str(x, "voucher_id");
            v.provider_id = str(x, "provider_id");
            v.amount = x.at("amount").as_int64();
            v.currency = str(x, "currency");
            v.purchased_at_ms = up::parse_utc(str(x, "purchased_at")).value_or(0);
            v.valid_ms = i64(x, "valid_ms", 0);
            v.status = str(x, "status");
            v.redemption_id = str(x, "redemption_id");
            s.vouchers_[v.voucher_id] = v;
        }
        for (const auto& rv : o.at("redemptions").as_array()) {
            const auto& x = rv.as_object();
            Redemption r;
            r.redemption_id = str(x, "redemption_id");
            r.redeem_key = str(x, "redeem_key");
            r.voucher_id = str(x, "voucher_id");
            r.provider_id = str(x, "provider_id");
            r.order_id = str(x, "order_id");
            r.payment_ref = str(x, "payment_ref");
            r.register_id = str(x, "register");
            r.currency = str(x, "currency");
            r.amount = x.at("amount").as_int64();
            r.redeemed_at_ms = x.at("redeemed_at_ms").as_int64();
            r.state = str(x, "state");
            r.credit_id = str(x, "credit_id");
            s.redemptions_.push_back(r);
        }
        for (const auto& k : o.at("cancelled_keys").as_array()) s.cancelled_keys_.insert(std::string(k.as_string()));
        *this = std::move(s);
        return {};
    } catch (const std::exception& e) {
        return unexpected(std::string("benefit state: ") + e.what());
    }
}

}  // namespace pb::sim::upstream
