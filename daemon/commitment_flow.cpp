#include "daemon/commitment_flow.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "daemon/erp_views.hpp"
#include "daemon/ledger_on_loop.hpp"
#include "daemon/log.hpp"
#include "daemon/upstream_flow.hpp"
#include "daemon/upstream_voids.hpp"
#include "ledger/commitment.hpp"
#include "protocol/upstream/commitment.hpp"

namespace pb::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
namespace up = pb::upstream;
using erp::ErpError;
using erp::ErrorCode;

namespace {

constexpr const char* kService = "commitment";

std::string debit_key(const std::string& request_key) { return "commitment:" + request_key; }
std::string void_key(const std::string& request_key) { return "commitment-void:" + request_key; }
std::string receipt_key(const std::string& request_key) { return "commitment-receipt:" + request_key; }

std::vector<up::CommitmentLine> service_lines(const std::vector<erp::Line>& lines) {
    std::vector<up::CommitmentLine> out;
    for (std::size_t i = 0; i < lines.size(); ++i)
        out.push_back({static_cast<std::int64_t>(i), lines[i].sku, lines[i].text, lines[i].category, lines[i].amount});
    return out;
}

/// The service's refusal as the ERP's error (protocol/upstream/README.md §2).
ErpError refusal(const up::ServiceError& e, const erp::Request& r) {
    const std::string what = "commitment service: " + (e.message.empty() ? e.code : e.message);
    if (e.code == "card_unknown" || e.code == "card_blocked" || e.code == "commitment_inactive" ||
        e.code == "commitment_expired")
        return err(ErrorCode::commitment_invalid, "/card_id", what + " (" + e.code + ")", r);
    if (e.code == "insufficient_balance") return err(ErrorCode::insufficient_balance, "/amount", what, r);
    if (e.code == "category_blocked")
        return err(ErrorCode::category_blocked,
                   e.blocked_lines.empty() ? "/lines" : "/lines/" + std::to_string(e.blocked_lines.front()), what, r);
    if (e.code == "currency_mismatch") return err(ErrorCode::currency_mismatch, "/currency", what, r);
    if (e.code == "debit_voided" || e.status == 401 || e.status == 403 || e.transient())
        return err(ErrorCode::cannot_verify, "", what + "; nothing was charged", r);
    return err(ErrorCode::internal, "", "commitment service refused the request (HTTP " + std::to_string(e.status) +
                                            " " + e.code + "): " + e.message, r);
}

ErpError cannot_verify(const std::string& why, const erp::Request& r) {
    return err(ErrorCode::cannot_verify, "", "the commitment service cannot verify this now (" + why + "); nothing was charged", r);
}

ledger::OutboxNew void_message(const ledger::Payment& p, const std::string& card_id) {
    up::VoidRequest v;
    v.debit_key = debit_key(p.request.request_key);
    v.card_id = card_id;
    v.payment_ref = payment_ref(p.id);
    v.amount = p.request.amount;
    return void_message_of(kService, up::kVoidPath, void_key(p.request.request_key), up::encode(v), p.id);
}

}  // namespace

struct CommitmentFlow::Impl : UpstreamFlowBase<CommitmentFlow::Impl, CommitmentFlowDeps> {
    // ---- commitment.check ---------------------------------------------------------------
    void check(const std::string& client, const erp::Request& r, const erp::CommitmentCheck& c) {
        if (refused_here(client, r, c.register_id)) return;
        up::CheckRequest req;
        req.card_id = c.card_id;
        req.total = c.total;
        req.lines = service_lines(c.lines);
        adapters::HttpCall call;
        call.path = std::string(up::kCheckPath);
        call.body = up::encode(req);
        std::weak_ptr<Impl> weak = shared_from_this();
        std::vector<erp::Line> lines = c.lines;
        Currency currency = c.total.currency;
        deps.client->call(std::move(call), [weak, client, r, lines, currency](adapters::CallResult res) {
            auto self = weak.lock();
            if (!self) return;
            ErpPort& out = *self->deps.port;
            if (!res) {
                log::warn("PB_COMMITMENT_NO_ANSWER", "commitment.check " + r.id + ": " + res.error().message);
                return out.reply_err(client, cannot_verify(res.error().message, r));
            }
            if (res->status != 200)
                return out.reply_err(client, refusal(up::parse_service_error(static_cast<int>(res->status), res->body), r));
            auto rep = up::parse_check_reply(res->body, lines.size());
            if (!rep) {
                log::warn("PB_UPSTREAM_MALFORMED", "malformed reply from commitment: " + rep.error().to_string());
                return out.reply_err(client, cannot_verify("malformed reply: " + rep.error().to_string(), r));
            }
            if (rep->status != up::CommitmentStatus::active)
                return out.reply_err(client, err(ErrorCode::commitment_invalid, "/card_id",
                                                  "card " + rep->card_id + ": commitment " + std::string(up::to_string(rep->status)), r));
            if (!(rep->balance.currency == currency))
                return out.reply_err(client, err(ErrorCode::currency_mismatch, "/currency",
                                                  "the commitment is in " + std::string(rep->balance.currency.code()), r));
            std::int64_t allowed = 0;
            json::array blocked;
            for (std::size_t i = 0; i < lines.size(); ++i) {
                bool is_blocked = false;
                for (auto b : rep->blocked_lines) is_blocked = is_blocked || b == static_cast<std::int64_t>(i);
                if (is_blocked)
                    blocked.push_back(static_cast<std::int64_t>(i));
                else
                    allowed += lines[i].amount;
            }
            json::object result{{"active", true},
                                {"valid_until", rep->valid_until},
                             {"balance", rep->balance.minor},
                             {"currency", std::string(rep->balance.currency.code())},
                             {"blocked_lines", std::move(blocked)},
                             {"allowed_total", allowed},
                             {"covered", rep->balance.minor >= allowed},
                             {"billing_reference", rep->billing_reference}};
            out.reply_ok(client, r, std::move(result));
        });
    }

    // ---- commitment.pay -----------------------------------------------------------------
    json::object pay_result(const ledger::Payment& p, const std::optional<ledger::CommitmentDebit>& d) {
        json::object o = erp::to_json(view_of(p));
        if (d) {
            o["remaining_balance"] = d->remaining_balance;
            o["billing_reference"] = d->billing_reference;
            if (!d->valid_until.empty()) o["valid_until"] = d->valid_until;
        }
        return o;
    }

    void reply_existing(const std::string& client, const erp::Request& r, ledger::Payment p) {
        write<ledger::CommitmentRecord>([id = p.id](ledger::Tx& tx) { return ledger::commitment_of(tx, id); },
                                        [this, client, r, p](ledger::Result<ledger::CommitmentRecord> rec) {
                                            deps.port->reply_ok(client, r, pay_result(p, rec ? rec->debit : std::nullopt));
                                        });
    }

    void pay(const std::string& client, const erp::Request& r, const erp::CommitmentPay& c) {
        ErpPort& port = *deps.port;
        if (refused_here(client, r, c.register_id)) return;
        {
            auto reader = deps.ledger->reader();
            // The same request key again: that payment, never a second debit.
            if (auto existing = reader->by_request_key(c.request_key)) {
                const auto& p = *existing;
                if (p.request.order_id != c.order_id || !(p.request.amount == c.amount) ||
                    p.request.tender != ledger::Tender::commitment_card)
                    return port.reply_err(client, err(ErrorCode::request_key_conflict, "/request_key",
                                                      "request key already used for order " + p.request.order_id, r));
                return reply_existing(client, r, p);
            }
            if (auto e = check_operator(*reader, c.operator_id, ledger::Right::take_card, r)) return port.reply_err(client, *e);
        }
        ledger::PaymentRequest req;
        req.order_id = c.order_id;
        req.request_key = c.request_key;
        req.amount = c.amount;
        req.tender = ledger::Tender::commitment_card;
        req.register_id = c.register_id;
        req.operator_id = c.operator_id;
        req.receptionist = c.receptionist;
        req.business_date = business_date(now(), deps.day_starts_at);
        std::string card = c.card_id;
        write<ledger::Begun>(
            // `sent` (and the card) durable before the debit leaves (design.md §4).
            [req, card](ledger::Tx& tx) -> ledger::Result<ledger::Begun> {
                auto b = tx.begin_and_mark_sent(req);
                if (!b || !b->created) return b;
                if (auto e = ledger::record_commitment_intent(tx, b->payment.id, card); !e) return pb::unexpected(e.error());
                return b;
            },
            [this, client, r, c](ledger::Result<ledger::Begun> res) {
                if (!res) return deps.port->reply_err(client, from_ledger(res.error(), r));
                if (!res->created) return reply_existing(client, r, res->payment);
                send_debit(client, r, c, res->payment);
            });
    }

    void send_debit(const std::string& client, const erp::Request& r, const erp::CommitmentPay& c, const ledger::Payment& p) {
        up::DebitRequest d;
        d.card_id = c.card_id;
        d.order_id = c.order_id;
        d.payment_ref = payment_ref(p.id);
        d.register_id = c.register_id;
        d.amount = c.amount;
        d.lines = service_lines(c.lines);
        adapters::HttpCall call;
        call.path = std::string(up::kDebitPath);
        call.body = up::encode(d);
        call.idempotency_key = debit_key(c.request_key);
        log::info("PB_COMMITMENT_DEBIT", payment_ref(p.id) + " " + format_money(c.amount) + " on card " + c.card_id);
        std::weak_ptr<Impl> weak = shared_from_this();
        deps.client->call(std::move(call), [weak, client, r, c, p](adapters::CallResult res) {
            auto self = weak.lock();
            if (!self) return;
            if (!res) return self->unanswered(client, r, c, p, res.error().message);
            if (res->status == 201 || res->status == 200) {
                auto rep = up::parse_debit_reply(res->body);
                if (!rep) {
                    log::warn("PB_UPSTREAM_MALFORMED", "malformed reply from commitment: " + rep.error().to_string());
                    return self->unanswered(client, r, c, p, "malformed reply: " + rep.error().to_string());
                }
                return self->approved(client, r, c, p, *rep);
            }
            auto e = up::parse_service_error(static_cast<int>(res->status), res->body);
            if (e.transient() || e.status == 401 || e.status == 403)
                return self->unanswered(client, r, c, p, "HTTP " + std::to_string(e.status) + " " + e.code);
            self->declined(client, r, p, e);
        });
    }

    void approved(const std::string& client, const erp::Request& r, const erp::CommitmentPay& c, const ledger::Payment& p,
                  const up::DebitReply& rep) {
        ledger::CommitmentDebit debit{rep.debit_id, rep.billing_reference, rep.remaining_balance, rep.valid_until};
        // The receipt line data for the invoice (seed: "kvittoraduppgifter följer med fakturan").
        up::ReceiptRequest receipt;
        receipt.debit_id = rep.debit_id;
        receipt.card_id = c.card_id;
        receipt.billing_reference = rep.billing_reference;
        receipt.order_id = c.order_id;
        receipt.payment_ref = payment_ref(p.id);
        receipt.register_id = c.register_id;
        receipt.paid_at = iso_utc(now());
        receipt.amount = c.amount;
        for (const auto& l : c.lines)
            receipt.lines.push_back({l.sku, l.text, l.category, l.qty_milli, l.unit_price, l.amount});
        ledger::OutboxNew msg;
        msg.idempotency_key = receipt_key(c.request_key);
        msg.service = kService;
        msg.path = std::string(up::kReceiptPath);
        msg.body = up::encode(receipt);
        msg.subject = "payment/" + std::to_string(p.id.value);
        ledger::TerminalData data;
        data.approval_code = rep.debit_id;
        data.text = "commitment " + rep.billing_reference;
        ledger::PaymentId id = p.id;
        write<ledger::Payment>(
            [id, data, debit, msg](ledger::Tx& tx) -> ledger::Result<ledger::Payment> {
                auto done = tx.record_result(id, ledger::PaymentState::approved, data);
                if (!done) return done;
                if (auto e = ledger::record_commitment_debit(tx, id, debit); !e) return pb::unexpected(e.error());
                if (auto e = ledger::outbox_enqueue(tx, msg); !e) return pb::unexpected(e.error());
                return done;
            },
            [this, client, r, debit](ledger::Result<ledger::Payment> res) {
                if (!res) {
                    // Debited at the service but not stored here: the payment stays `sent` and
                    // is voided at the next start (recover()); the ERP hears the truth now.
                    log::error("PB_RESULT_NOT_STORED", "commitment debit " + debit.debit_id + ": " + res.error().message);
                    return deps.port->reply_err(client, from_ledger(res.error(), r));
                }
                log::info("PB_PAYMENT_RESULT", payment_ref(res->id) + " approved (commitment " + debit.billing_reference +
                                                   ", remaining " + std::to_string(debit.remaining_balance) + ")");
                deps.port->reply_ok(client, r, pay_result(*res, debit));
                deps.port->publish(erp::PaymentResult{view_of(*res)});
                poke();
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

    void unanswered(const std::string& client, const erp::Request& r, const erp::CommitmentPay& c, const ledger::Payment& p,
                    const std::string& why) {
        log::warn("PB_COMMITMENT_NO_ANSWER", payment_ref(p.id) + ": " + why + "; the debit is voided through the outbox");
        ledger::OutboxNew msg = void_message(p, c.card_id);
        ledger::PaymentId id = p.id;
        write<ledger::Payment>(
            [id, msg, why](ledger::Tx& tx) -> ledger::Result<ledger::Payment> {
                auto u = tx.mark_unknown(id, "commitment service did not answer: " + why);
                if (!u) return u;
                if (auto e = ledger::outbox_enqueue(tx, msg); !e) return pb::unexpected(e.error());
                return u;
            },
            [this, client, r, why](ledger::Result<ledger::Payment> res) {
                deps.port->reply_err(client, cannot_verify(why, r));
                if (res) deps.port->publish(erp::PaymentResult{view_of(*res)});
                poke();
            });
    }

    // ---- recovery and voids -------------------------------------------------------------
    void recover() {
        std::vector<ledger::Payment> left = unanswered_payments(*deps.ledger, ledger::Tender::commitment_card);
        if (left.empty()) return;
        write<std::size_t>(
            [left](ledger::Tx& tx) {
                return queue_voids(tx, left, "paybridged restarted before the commitment service answered",
                                   [](ledger::Tx& t, const ledger::Payment& p) -> ledger::Result<ledger::OutboxNew> {
                                       auto rec = ledger::commitment_of(t, p.id);
                                       if (!rec) return pb::unexpected(rec.error());
                                       return void_message(p, rec->card_id);
                                   });
            },
            [this](ledger::Result<std::size_t> n) {
                if (!n) return log::error("PB_COMMITMENT_RECOVERY_FAILED", n.error().message);
                log::warn("PB_COMMITMENT_RECOVERY", std::to_string(*n) + " unanswered commitment debit(s) are voided through the outbox");
                poke();
            });
    }

    void on_settled(const ledger::OutboxMessage& m) {
        auto id = delivered_void(m, kService, up::kVoidPath, "PB_COMMITMENT_VOID_DEAD");
        if (!id) return;
        std::string why = "commitment service did not answer; the debit was voided, nothing charged";
        if (auto rep = up::parse_void_reply(m.reply); rep && rep->voided) why += " (debit " + rep->debit_id + " reversed)";
        record_voided(*id, std::move(why), "voided", "PB_COMMITMENT_VOID_NOT_RECORDED");
    }
};

CommitmentFlow::CommitmentFlow(CommitmentFlowDeps deps) : impl_(std::make_shared<Impl>()) { impl_->deps = std::move(deps); }
CommitmentFlow::~CommitmentFlow() = default;

void CommitmentFlow::recover() { impl_->recover(); }

bool CommitmentFlow::handle(const std::string& client, const erp::Request& r) {
    if (auto* c = std::get_if<erp::CommitmentCheck>(&r.body)) {
        impl_->check(client, r, *c);
        return true;
    }
    if (auto* p = std::get_if<erp::CommitmentPay>(&r.body)) {
        impl_->pay(client, r, *p);
        return true;
    }
    return false;
}

void CommitmentFlow::on_settled(const ledger::OutboxMessage& m) { impl_->on_settled(m); }

}  // namespace pb::daemon
