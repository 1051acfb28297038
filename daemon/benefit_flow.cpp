#include "daemon/benefit_flow.hpp"

#include <boost/json.hpp>

#include "daemon/erp_views.hpp"
#include "daemon/ledger_on_loop.hpp"
#include "daemon/log.hpp"
#include "daemon/upstream_flow.hpp"
#include "daemon/upstream_voids.hpp"
#include "ledger/benefit.hpp"

namespace pb::daemon {

namespace json = boost::json;
namespace up = pb::upstream;
using erp::ErpError;
using erp::ErrorCode;
using Verdict = up::BenefitWindows::Verdict;

namespace {

constexpr const char* kService = "benefit";

std::string redeem_key(const std::string& request_key) { return "benefit:" + request_key; }
std::string void_key(const std::string& request_key) { return "benefit-void:" + request_key; }

std::string minutes_text(std::int64_t ms) {
    const std::int64_t m = ms / 60'000;
    if (m % (24 * 60) == 0) return std::to_string(m / (24 * 60)) + (m == 24 * 60 ? " day" : " days");
    if (m % 60 == 0) return std::to_string(m / 60) + (m == 60 ? " hour" : " hours");
    return std::to_string(m) + " minutes";
}

/// The service's refusal as the ERP's error (protocol/upstream/README.md §5 table).
ErpError refusal(const up::ServiceError& e, const erp::Request& r) {
    const std::string what = "benefit service: " + (e.message.empty() ? e.code : e.message);
    if (e.code == "voucher_unknown" || e.code == "voucher_used" || e.code == "voucher_expired" ||
        e.code == "provider_mismatch")
        return err(ErrorCode::voucher_invalid, "/voucher", what + " (" + e.code + ")", r);
    if (e.code == "amount_mismatch") return err(ErrorCode::amount_invalid, "/amount", what, r);
    if (e.code == "currency_mismatch") return err(ErrorCode::currency_mismatch, "/currency", what, r);
    if (e.code == "window_expired") return err(ErrorCode::window_expired, "", what, r);
    if (e.code == "redemption_unknown" || e.code == "redemption_closed")
        return err(ErrorCode::invalid_state, "/payment_id", what + " (" + e.code + ")", r);
    if (e.code == "redeem_cancelled" || e.status == 401 || e.status == 403 || e.transient())
        return err(ErrorCode::cannot_verify, "", what + "; nothing was charged", r);
    return err(ErrorCode::internal, "", "benefit service refused the request (HTTP " + std::to_string(e.status) + " " +
                                            e.code + "): " + e.message, r);
}

ErpError cannot_verify(const std::string& why, const erp::Request& r, const std::string& effect) {
    return err(ErrorCode::cannot_verify, "", "the benefit service cannot answer now (" + why + "); " + effect, r);
}

ledger::OutboxNew void_message(const ledger::Payment& p, const ledger::BenefitRecord& v) {
    up::VoucherCancelRequest c;
    c.redeem_key = redeem_key(p.request.request_key);
    c.voucher_id = v.voucher_id;
    c.provider_id = v.provider_id;
    c.payment_ref = payment_ref(p.id);
    c.amount = p.request.amount;
    c.reason = "unanswered";
    return void_message_of(kService, up::kVoucherCancelPath, void_key(p.request.request_key), up::encode(c), p.id);
}

}  // namespace

struct BenefitFlow::Impl : UpstreamFlowBase<BenefitFlow::Impl, BenefitFlowDeps> {
    /// A voucher the service knows, judged by this shop's rules: unused, for this provider,
    /// inside its validity. nullopt = redeemable.
    std::optional<ErpError> judge(const up::VoucherReply& v, const erp::Request& r) const {
        const std::string id = "voucher " + v.voucher_id;
        if (v.provider_id != deps.provider_id)
            return err(ErrorCode::voucher_invalid, "/voucher",
                       id + " was bought for provider " + v.provider_id + ", not for this shop (" + deps.provider_id +
                           "); the customer must buy it for this shop",
                       r);
        if (v.status != up::VoucherStatus::valid)
            return err(ErrorCode::voucher_invalid, "/voucher",
                       id + " is already " + std::string(up::to_string(v.status)) +
                           (v.redemption_id.empty() ? "" : " (redemption " + v.redemption_id + ")"),
                       r);
        switch (deps.windows.redeemable(v.purchased_at_ms, now())) {
            case Verdict::inside: return std::nullopt;
            case Verdict::expired:
                return err(ErrorCode::voucher_invalid, "/voucher",
                           id + " was bought at " + up::format_utc(v.purchased_at_ms) + " and expired at " +
                               up::format_utc(v.purchased_at_ms + deps.windows.valid_ms) + " (valid " +
                               minutes_text(deps.windows.valid_ms) + " after the purchase)",
                           r);
            case Verdict::not_yet:
                return err(ErrorCode::voucher_invalid, "/voucher",
                           id + " has a purchase time in the future (" + up::format_utc(v.purchased_at_ms) +
                               "); check the clocks",
                           r);
        }
        return std::nullopt;
    }

    json::object voucher_json(const up::VoucherReply& v) const {
        return json::object{{"valid", true},
                            {"voucher", v.voucher_id},
                            {"amount", v.amount.minor},
                            {"currency", std::string(v.amount.currency.code())},
                            {"provider", v.provider_id},
                            {"purchased_at", up::format_utc(v.purchased_at_ms)},
                            {"expires_at", up::format_utc(v.purchased_at_ms + deps.windows.valid_ms)}};
    }

    /// Asks the service about a voucher; `then` gets the reply or has been answered already.
    void ask(const std::string& client, const erp::Request& r, const std::string& voucher,
             std::function<void(const up::VoucherReply&)> then) {
        adapters::HttpCall call;
        call.path = std::string(up::kVoucherVerifyPath);
        call.body = up::encode(up::VoucherVerifyRequest{voucher, deps.provider_id});
        std::weak_ptr<Impl> weak = shared_from_this();
        deps.client->call(std::move(call), [weak, client, r, then = std::move(then)](adapters::CallResult res) {
            auto self = weak.lock();
            if (!self) return;
            ErpPort& out = *self->deps.port;
            const std::string nothing = "nothing was charged";
            if (!res) {
                log::warn("PB_BENEFIT_NO_ANSWER", std::string(erp::type_name(r.body)) + " " + r.id + ": " + res.error().message);
                return out.reply_err(client, cannot_verify(res.error().message, r, nothing));
            }
            if (res->status != 200)
                return out.reply_err(client, refusal(up::parse_service_error(static_cast<int>(res->status), res->body), r));
            auto rep = up::parse_voucher_reply(res->body);
            if (!rep) {
                log::warn("PB_UPSTREAM_MALFORMED", "malformed reply from benefit: " + rep.error().to_string());
                return out.reply_err(client, cannot_verify("malformed reply: " + rep.error().to_string(), r, nothing));
            }
            if (auto e = self->judge(*rep, r)) return out.reply_err(client, *e);
            then(*rep);
        });
    }

    // ---- benefit.verify -----------------------------------------------------------------
    void verify(const std::string& client, const erp::Request& r, const erp::BenefitVerify& b) {
        if (refused_here(client, r, "")) return;
        ask(client, r, b.voucher, [this, client, r](const up::VoucherReply& v) { deps.port->reply_ok(client, r, voucher_json(v)); });
    }

    // ---- benefit.redeem -----------------------------------------------------------------
    json::object pay_result(const ledger::Payment& p, const ledger::BenefitRecord& v, std::int64_t total) const {
        json::object o = erp::to_json(view_of(p));
        o["voucher"] = v.voucher_id;
        o["provider"] = v.provider_id;
        if (!v.redemption_id.empty()) o["redemption_id"] = v.redemption_id;
        o["purchased_at"] = up::format_utc(v.purchased_at_ms);
        o["cancel_until"] = up::format_utc(v.purchased_at_ms + deps.windows.cancel_ms);
        o["credit_until"] = up::format_utc(v.purchased_at_ms + deps.windows.credit_ms);
        if (total > 0) o["remaining"] = total - p.request.amount.minor;
        return o;
    }

    /// The payment of a request key seen before; the key with another voucher is a conflict.
    void reply_existing(const std::string& client, const erp::Request& r, const ledger::Payment& p, const erp::BenefitRedeem& b) {
        write<ledger::BenefitRecord>([id = p.id](ledger::Tx& tx) { return ledger::benefit_of(tx, id); },
                                     [this, client, r, p, b](ledger::Result<ledger::BenefitRecord> rec) {
                                         if (!rec) return deps.port->reply_err(client, from_ledger(rec.error(), r));
                                         if (rec->voucher_id != b.voucher)
                                             return deps.port->reply_err(
                                                 client, err(ErrorCode::request_key_conflict, "/request_key",
                                                             "request key already used for voucher " + rec->voucher_id, r));
                                         deps.port->reply_ok(client, r, pay_result(p, *rec, b.total));
                                     });
    }

    void redeem(const std::string& client, const erp::Request& r, const erp::BenefitRedeem& b) {
        ErpPort& port = *deps.port;
        if (refused_here(client, r, b.register_id)) return;
        {
            auto reader = deps.ledger->reader();
            // The same request key again: that payment, never a second redemption.
            if (auto existing = reader->by_request_key(b.request_key)) {
                const auto& p = *existing;
                if (p.request.order_id != b.order_id || !(p.request.amount == b.amount) ||
                    p.request.tender != ledger::Tender::benefit_voucher)
                    return port.reply_err(client, err(ErrorCode::request_key_conflict, "/request_key",
                                                      "request key already used for order " + p.request.order_id, r));
                return reply_existing(client, r, p, b);
            }
            if (auto e = check_operator(*reader, b.operator_id, ledger::Right::take_card, r)) return port.reply_err(client, *e);
        }
        // The voucher's amount is fixed: a voucher worth more than the price is not redeemed
        // (the customer bought the wrong product in the app; the provider refunds it there).
        if (b.total > 0 && b.amount.minor > b.total)
            return port.reply_err(client, err(ErrorCode::amount_invalid, "/amount",
                                              "the voucher (" + format_money(b.amount) + ") exceeds the price (" +
                                                  format_money(Money{b.total, b.amount.currency}) +
                                                  "); a voucher is redeemed whole, so it is not redeemed",
                                              r));
        ask(client, r, b.voucher, [this, client, r, b](const up::VoucherReply& v) {
            if (!(v.amount.currency == b.amount.currency))
                return deps.port->reply_err(client, err(ErrorCode::currency_mismatch, "/currency",
                                                        "voucher " + v.voucher_id + " is in " + std::string(v.amount.currency.code()), r));
            if (v.amount.minor != b.amount.minor)
                return deps.port->reply_err(client, err(ErrorCode::amount_invalid, "/amount",
                                                        "voucher " + v.voucher_id + " is worth " + format_money(v.amount) +
                                                            ", not " + format_money(b.amount) + "; redeem its whole amount",
                                                        r));
            begin(client, r, b, v);
        });
    }

    void begin(const std::string& client, const erp::Request& r, const erp::BenefitRedeem& b, const up::VoucherReply& v) {
        ledger::PaymentRequest req;
        req.order_id = b.order_id;
        req.request_key = b.request_key;
        req.amount = b.amount;
        req.tender = ledger::Tender::benefit_voucher;
        req.register_id = b.register_id;
        req.operator_id = b.operator_id;
        req.receptionist = b.receptionist;
        req.business_date = business_date(now(), deps.day_starts_at);
        ledger::BenefitRecord rec{v.voucher_id, v.provider_id, v.purchased_at_ms, "", 0};
        write<ledger::Begun>(
            // `sent` (and the voucher) durable before the redeem leaves (design.md §4).
            [req, rec](ledger::Tx& tx) -> ledger::Result<ledger::Begun> {
                auto started = tx.begin_and_mark_sent(req);
                if (!started || !started->created) return started;
                if (auto e = ledger::record_benefit_intent(tx, started->payment.id, rec); !e) return pb::unexpected(e.error());
                return started;
            },
            [this, client, r, b, rec](ledger::Result<ledger::Begun> res) {
                if (!res) return deps.port->reply_err(client, from_ledger(res.error(), r));
                if (!res->created) return reply_existing(client, r, res->payment, b);
                send_redeem(client, r, b, res->payment, rec);
            });
    }

    void send_redeem(const std::string& client, const erp::Request& r, const erp::BenefitRedeem& b, const ledger::Payment& p,
                     const ledger::BenefitRecord& rec) {
        up::RedeemRequest q;
        q.voucher_id = rec.voucher_id;
        q.provider_id = rec.provider_id;
        q.order_id = b.order_id;
        q.payment_ref = payment_ref(p.id);
        q.register_id = b.register_id;
        q.amount = b.amount;
        adapters::HttpCall call;
        call.path = std::string(up::kVoucherRedeemPath);
        call.body = up::encode(q);
        call.idempotency_key = redeem_key(b.request_key);
        log::info("PB_BENEFIT_REDEEM", payment_ref(p.id) + " " + format_money(b.amount) + " voucher " + rec.voucher_id);
        std::weak_ptr<Impl> weak = shared_from_this();
        deps.client->call(std::move(call), [weak, client, r, b, p, rec](adapters::CallResult res) {
            auto self = weak.lock();
            if (!self) return;
            if (!res) return self->unanswered(client, r, p, rec, res.error().message);
            if (res->status == 201 || res->status == 200) {
                auto rep = up::parse_redeem_reply(res->body);
                if (!rep) {
                    log::warn("PB_UPSTREAM_MALFORMED", "malformed reply from benefit: " + rep.error().to_string());
                    return self->unanswered(client, r, p, rec, "malformed reply: " + rep.error().to_string());
                }
                return self->redeemed(client, r, b, p, rec, *rep);
            }
            auto e = up::parse_service_error(static_cast<int>(res->status), res->body);
            if (e.transient() || e.status == 401 || e.status == 403)
                return self->unanswered(client, r, p, rec, "HTTP " + std::to_string(e.status) + " " + e.code);
            self->declined(client, r, p, e);
        });
    }

    void redeemed(const std::string& client, const erp::Request& r, const erp::BenefitRedeem& b, const ledger::Payment& p,
                  ledger::BenefitRecord rec, const up::RedeemReply& rep) {
        rec.redemption_id = rep.redemption_id;
        rec.redeemed_at_ms = rep.redeemed_at_ms;
        ledger::TerminalData data;
        data.approval_code = rep.redemption_id;
        data.text = "benefit voucher " + rec.voucher_id + " (" + rec.provider_id + ")";
        ledger::PaymentId id = p.id;
        write<ledger::Payment>(
            [id, data, rec](ledger::Tx& tx) -> ledger::Result<ledger::Payment> {
                auto done = tx.record_result(id, ledger::PaymentState::approved, data);
                if (!done) return done;
                if (auto e = ledger::record_benefit_redeemed(tx, id, rec.redemption_id, rec.redeemed_at_ms); !e)
                    return pb::unexpected(e.error());
                return done;
            },
            [this, client, r, rec, total = b.total](ledger::Result<ledger::Payment> res) {
                if (!res) {
                    // Redeemed at the service but not stored here: the payment stays `sent` and
                    // its redeem is cancelled at the next start (recover()).
                    log::error("PB_RESULT_NOT_STORED", "benefit redemption " + rec.redemption_id + ": " + res.error().message);
                    return deps.port->reply_err(client, from_ledger(res.error(), r));
                }
                log::info("PB_PAYMENT_RESULT", payment_ref(res->id) + " approved (benefit " + rec.redemption_id + ")");
                deps.port->reply_ok(client, r, pay_result(*res, rec, total));
                deps.port->publish(erp::PaymentResult{view_of(*res)});
            });
    }

    void declined(const std::string& client, const erp::Request& r, const ledger::Payment& p, const up::ServiceError& e) {
        ledger::TerminalData data;
        data.text = e.code + (e.message.empty() ? "" : ": " + e.message);
        ledger::PaymentId id = p.id;
        ErpError answer = refusal(e, r);
        write<ledger::Payment>([id, data](ledger::Tx& tx) { return tx.record_result(id, ledger::PaymentState::declined, data); },
                               [this, client, answer](ledger::Result<ledger::Payment> res) {
                                   deps.port->reply_err(client, answer);
                                   if (res) deps.port->publish(erp::PaymentResult{view_of(*res)});
                               });
    }

    void unanswered(const std::string& client, const erp::Request& r, const ledger::Payment& p, const ledger::BenefitRecord& rec,
                    const std::string& why) {
        log::warn("PB_BENEFIT_NO_ANSWER", payment_ref(p.id) + ": " + why + "; the redeem is cancelled through the outbox");
        ledger::OutboxNew msg = void_message(p, rec);
        ledger::PaymentId id = p.id;
        write<ledger::Payment>(
            [id, msg, why](ledger::Tx& tx) -> ledger::Result<ledger::Payment> {
                auto u = tx.mark_unknown(id, "benefit service did not answer: " + why);
                if (!u) return u;
                if (auto e = ledger::outbox_enqueue(tx, msg); !e) return pb::unexpected(e.error());
                return u;
            },
            [this, client, r, why](ledger::Result<ledger::Payment> res) {
                deps.port->reply_err(client, cannot_verify(why, r, "the redeem is cancelled, nothing was charged"));
                if (res) deps.port->publish(erp::PaymentResult{view_of(*res)});
                poke();
            });
    }

    // ---- payment.reverse (cancel) / payment.refund (credit) ------------------------------
    void undo(const std::string& client, const erp::Request& r, const std::string& payment_id, const std::string& operator_id,
              const std::string& reason, bool credit) {
        ErpPort& port = *deps.port;
        if (refused_here(client, r, "")) return;
        auto id = parse_payment_ref(payment_id);
        std::optional<ledger::Payment> p;
        if (id)
            if (auto q = deps.ledger->reader()->payment(*id)) p = *q;
        if (!p) return port.reply_err(client, err(ErrorCode::unknown_payment, "/payment_id", "no payment '" + payment_id + "'", r));
        if (auto e = check_operator(*deps.ledger->reader(), operator_id, ledger::Right::refund, r)) return port.reply_err(client, *e);
        if (p->state != ledger::PaymentState::approved)
            return port.reply_err(client, err(ErrorCode::invalid_state, "/payment_id",
                                              payment_ref(p->id) + " is " + std::string(ledger::state_id(p->state)), r));
        write<ledger::BenefitRecord>([pid = p->id](ledger::Tx& tx) { return ledger::benefit_of(tx, pid); },
                                     [this, client, r, p = *p, operator_id, reason, credit](ledger::Result<ledger::BenefitRecord> rec) {
                                         if (!rec) return deps.port->reply_err(client, from_ledger(rec.error(), r));
                                         undo_checked(client, r, p, *rec, operator_id, reason, credit);
                                     });
    }

    void undo_checked(const std::string& client, const erp::Request& r, const ledger::Payment& p, const ledger::BenefitRecord& rec,
                      const std::string& operator_id, const std::string& reason, bool credit) {
        const auto window = credit ? deps.windows.credit_ms : deps.windows.cancel_ms;
        const Verdict v = credit ? deps.windows.creditable(rec.purchased_at_ms, now()) : deps.windows.cancellable(rec.purchased_at_ms, now());
        if (v == Verdict::expired) {
            std::string msg = std::string(credit ? "a credit" : "a cancel") + " of " + payment_ref(p.id) + " was possible until " +
                              up::format_utc(rec.purchased_at_ms + window) + " (" + minutes_text(window) +
                              " after the purchase at " + up::format_utc(rec.purchased_at_ms) + ")";
            msg += credit ? "; settle it with the benefit provider" : "; credit it instead with payment.refund";
            return deps.port->reply_err(client, err(ErrorCode::window_expired, "/payment_id", msg, r));
        }
        adapters::HttpCall call;
        const std::string ref = payment_ref(p.id);
        if (credit) {
            up::CreditRequest c{rec.redemption_id, rec.voucher_id, rec.provider_id, ref, p.request.amount, reason};
            call.path = std::string(up::kVoucherCreditPath);
            call.body = up::encode(c);
            call.idempotency_key = "benefit-credit:" + ref;
        } else {
            up::VoucherCancelRequest c{redeem_key(p.request.request_key), rec.voucher_id, rec.provider_id, ref, p.request.amount, reason};
            call.path = std::string(up::kVoucherCancelPath);
            call.body = up::encode(c);
            call.idempotency_key = "benefit-cancel:" + ref;
        }
        log::info("PB_BENEFIT_UNDO", std::string(credit ? "credit " : "cancel ") + ref + " by " + operator_id);
        std::weak_ptr<Impl> weak = shared_from_this();
        deps.client->call(std::move(call), [weak, client, r, p, operator_id, credit](adapters::CallResult res) {
            auto self = weak.lock();
            if (!self) return;
            ErpPort& out = *self->deps.port;
            const std::string unchanged = "nothing was changed; ask again";
            if (!res) return out.reply_err(client, cannot_verify(res.error().message, r, unchanged));
            if (res->status != 200 && res->status != 201)
                return out.reply_err(client, refusal(up::parse_service_error(static_cast<int>(res->status), res->body), r));
            ledger::TerminalData data;
            if (credit) {
                auto rep = up::parse_credit_reply(res->body);
                if (!rep) return out.reply_err(client, cannot_verify("malformed reply: " + rep.error().to_string(), r, unchanged));
                data.approval_code = rep->credit_id;
                data.text = "benefit credit " + rep->credit_id + " of " + rep->redemption_id;
            } else {
                auto rep = up::parse_voucher_cancel_reply(res->body);
                if (!rep) return out.reply_err(client, cannot_verify("malformed reply: " + rep.error().to_string(), r, unchanged));
                // An approved payment's redemption is known to the service; if it says otherwise
                // nothing was cancelled, and the ledger must not say it was.
                if (!rep->cancelled)
                    return out.reply_err(client, err(ErrorCode::invalid_state, "/payment_id",
                                                     "the benefit service has no redemption for " + payment_ref(p.id) +
                                                         "; nothing was cancelled",
                                                     r));
                data.approval_code = rep->redemption_id;
                data.text = "benefit redemption " + rep->redemption_id + " cancelled";
            }
            ledger::PaymentId id = p.id;
            self->write<ledger::Payment>(
                [id, operator_id, data, credit](ledger::Tx& tx) {
                    return credit ? tx.mark_refunded(id, operator_id, data) : tx.mark_reversed(id, operator_id, data);
                },
                [self, client, r](ledger::Result<ledger::Payment> done) {
                    if (!done) return self->deps.port->reply_err(client, from_ledger(done.error(), r));
                    log::info("PB_PAYMENT_RESULT", payment_ref(done->id) + " " + std::string(ledger::state_id(done->state)));
                    self->deps.port->reply_ok(client, r, erp::to_json(view_of(*done)));
                    self->deps.port->publish(erp::PaymentResult{view_of(*done)});
                });
        });
    }

    // ---- recovery and voids -------------------------------------------------------------
    void recover() {
        std::vector<ledger::Payment> left = unanswered_payments(*deps.ledger, ledger::Tender::benefit_voucher);
        if (left.empty()) return;
        write<std::size_t>(
            [left](ledger::Tx& tx) {
                return queue_voids(tx, left, "paybridged restarted before the benefit service answered",
                                   [](ledger::Tx& t, const ledger::Payment& p) -> ledger::Result<ledger::OutboxNew> {
                                       auto rec = ledger::benefit_of(t, p.id);
                                       if (!rec) return pb::unexpected(rec.error());
                                       return void_message(p, *rec);
                                   });
            },
            [this](ledger::Result<std::size_t> n) {
                if (!n) return log::error("PB_BENEFIT_RECOVERY_FAILED", n.error().message);
                log::warn("PB_BENEFIT_RECOVERY", std::to_string(*n) + " unanswered benefit redeem(s) are cancelled through the outbox");
                poke();
            });
    }

    void on_settled(const ledger::OutboxMessage& m) {
        auto id = delivered_void(m, kService, up::kVoucherCancelPath, "PB_BENEFIT_VOID_DEAD");
        if (!id) return;
        std::string why = "benefit service did not answer; the redeem was cancelled, nothing charged";
        if (auto rep = up::parse_voucher_cancel_reply(m.reply); rep && rep->cancelled)
            why += " (redemption " + rep->redemption_id + " cancelled)";
        record_voided(*id, std::move(why), "redeem cancelled", "PB_BENEFIT_VOID_NOT_RECORDED");
    }
};

BenefitFlow::BenefitFlow(BenefitFlowDeps deps) : impl_(std::make_shared<Impl>()) { impl_->deps = std::move(deps); }
BenefitFlow::~BenefitFlow() = default;

void BenefitFlow::recover() { impl_->recover(); }

bool BenefitFlow::handle(const std::string& client, const erp::Request& r) {
    if (auto* v = std::get_if<erp::BenefitVerify>(&r.body)) {
        impl_->verify(client, r, *v);
        return true;
    }
    if (auto* b = std::get_if<erp::BenefitRedeem>(&r.body)) {
        impl_->redeem(client, r, *b);
        return true;
    }
    if (auto* x = std::get_if<erp::PaymentReverse>(&r.body)) {
        impl_->undo(client, r, x->payment_id, x->operator_id, x->reason, false);
        return true;
    }
    if (auto* x = std::get_if<erp::PaymentRefund>(&r.body)) {
        impl_->undo(client, r, x->payment_id, x->operator_id, x->reason, true);
        return true;
    }
    return false;
}

void BenefitFlow::on_settled(const ledger::OutboxMessage& m) { impl_->on_settled(m); }

}  // namespace pb::daemon
