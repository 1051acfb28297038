#include "ledger/benefit.hpp"

#include <map>
#include <tuple>

#include <boost/json.hpp>

#include "ledger/store.hpp"

namespace pb::ledger {
namespace json = boost::json;

namespace {
std::string jtext(const json::object& o, std::string_view k) {
    auto it = o.find(k);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string{};
}
std::int64_t jnum(const json::object& o, std::string_view k) {
    auto it = o.find(k);
    return it != o.end() && it->value().is_int64() ? it->value().get_int64() : 0;
}
}  // namespace

Result<std::int64_t> record_benefit_intent(Tx& tx, PaymentId payment, const BenefitRecord& v) {
    if (v.voucher_id.empty() || v.provider_id.empty())
        return pb::unexpected(Error{Errc::invalid_argument, "benefit: voucher and provider must not be empty"});
    return tx.append_event("benefit.requested", std::to_string(payment.value),
                           json::serialize(json::object{{"voucher_id", v.voucher_id},
                                                        {"provider_id", v.provider_id},
                                                        {"purchased_at_ms", v.purchased_at_ms}}));
}

Result<std::int64_t> record_benefit_redeemed(Tx& tx, PaymentId payment, const std::string& redemption_id,
                                             std::int64_t redeemed_at_ms) {
    if (redemption_id.empty()) return pb::unexpected(Error{Errc::invalid_argument, "benefit: redemption id is empty"});
    return tx.append_event("benefit.redeemed", std::to_string(payment.value),
                           json::serialize(json::object{{"redemption_id", redemption_id}, {"redeemed_at_ms", redeemed_at_ms}}));
}

Result<BenefitRecord> benefit_of(Tx& tx, PaymentId payment) {
    return detail::guarded([&]() -> Result<BenefitRecord> {
        auto st = tx.store().db.prepare(
            "SELECT kind, body FROM events WHERE subject = ? AND kind IN ('benefit.requested','benefit.redeemed') ORDER BY seq");
        st.bind(1, std::to_string(payment.value));
        BenefitRecord rec;
        bool found = false;
        while (st.step()) {
            auto o = json::parse(st.text(1)).as_object();
            if (st.text(0) == "benefit.requested") {
                rec.voucher_id = jtext(o, "voucher_id");
                rec.provider_id = jtext(o, "provider_id");
                rec.purchased_at_ms = jnum(o, "purchased_at_ms");
                found = true;
            } else {
                rec.redemption_id = jtext(o, "redemption_id");
                rec.redeemed_at_ms = jnum(o, "redeemed_at_ms");
            }
        }
        if (!found)
            return pb::unexpected(Error{Errc::not_found, "payment " + std::to_string(payment.value) + " is not a benefit payment"});
        return rec;
    });
}

Result<std::vector<BenefitStats>> benefit_stats(Tx& tx, const std::optional<std::string>& date_from,
                                                const std::optional<std::string>& date_to) {
    HistoryFilter f;
    f.tender = Tender::benefit_voucher;
    f.date_from = date_from;
    f.date_to = date_to;
    f.limit = 1000;
    std::map<std::tuple<std::string, std::string, std::string>, BenefitStats> by;
    for (;;) {
        auto page = tx.history(f);
        if (!page) return pb::unexpected(page.error());
        for (const auto& p : *page) {
            if (p.state != PaymentState::approved && p.state != PaymentState::reversed && p.state != PaymentState::refunded)
                continue;
            auto rec = benefit_of(tx, p.id);
            const std::string provider = rec ? rec->provider_id : std::string("?");
            const std::string currency(p.request.amount.currency.code());
            auto& s = by[{p.request.business_date, provider, currency}];
            s.business_date = p.request.business_date;
            s.provider_id = provider;
            s.currency = currency;
            ++s.count;
            s.amount += p.request.amount.minor;
            if (p.state == PaymentState::reversed) ++s.cancelled, s.cancelled_amount += p.request.amount.minor;
            if (p.state == PaymentState::refunded) ++s.credited, s.credited_amount += p.request.amount.minor;
        }
        if (page->size() < f.limit) break;
        f.after = page->back().id;
    }
    std::vector<BenefitStats> out;
    for (auto& [k, s] : by) out.push_back(std::move(s));
    return out;
}

}  // namespace pb::ledger
