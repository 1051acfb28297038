#include "daemon/receipt_flow.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "daemon/erp_views.hpp"
#include "daemon/ledger_on_loop.hpp"
#include "daemon/log.hpp"
#include "daemon/receipt_render.hpp"
#include "daemon/receipt_timing.hpp"
#include "ledger/outbox.hpp"
#include "ledger/receipts.hpp"
#include "protocol/upstream/ereceipt.hpp"

namespace pb::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
namespace up = pb::upstream;
using erp::ErpError;
using erp::ErrorCode;
using erp::ReceiptChannel;

namespace {

constexpr const char* kService = "ereceipt";
constexpr std::size_t kWidth = 40;

std::string open_key(const std::string& id) { return "ereceipt-open:" + id; }
std::string deliver_key(const std::string& id) { return "ereceipt:" + id; }
std::string copy_key(const std::string& id, std::int64_t n) { return "ereceipt-copy:" + id + ":" + std::to_string(n); }
std::string subject_of(const std::string& id) { return "receipt/" + id; }

std::string two_columns(const std::string& left, const std::string& right) {
    if (left.size() + right.size() + 1 >= kWidth) return left + " " + right;
    return left + std::string(kWidth - left.size() - right.size(), ' ') + right;
}

std::string tender_name(const ledger::Payment& p) {
    switch (p.request.tender) {
        case ledger::Tender::cash: return "Cash";
        case ledger::Tender::commitment_card: return "Commitment card";
        case ledger::Tender::benefit_voucher: return "Benefit voucher";
        case ledger::Tender::card: break;
    }
    std::string s = "Card";
    if (p.terminal.brand != CardBrand::unknown) s += " " + std::string(brand_name(p.terminal.brand));
    return s;
}

/// "SMS", "e-mail", ... as a person reads it on the copy.
std::string channel_words(const std::string& c) {
    if (c == "sms") return "SMS";
    if (c == "email") return "e-mail";
    if (c == "waste_basket") return "the waste-basket (discarded original)";
    if (c == "qr") return "QR code";
    return "print";
}

std::string destination_of(ReceiptChannel c, const std::string& phone, const std::string& email) {
    return c == ReceiptChannel::sms ? phone : c == ReceiptChannel::email ? email : std::string{};
}

up::ReceiptChannel wire_channel(const std::string& c) { return up::receipt_channel_from(c).value_or(up::ReceiptChannel::qr); }

/// One message about receipt `id` for the e-receipt service, in the caller's unit of work.
ledger::Status enqueue(ledger::Tx& tx, const std::string& id, std::string key, std::string path, std::string body) {
    ledger::OutboxNew msg;
    msg.idempotency_key = std::move(key);
    msg.service = kService;
    msg.path = std::move(path);
    msg.body = std::move(body);
    msg.subject = subject_of(id);
    if (auto e = ledger::outbox_enqueue(tx, msg); !e) return pb::unexpected(e.error());
    return {};
}

}  // namespace

std::vector<std::string> receipt_lines(const std::string& shop_name, const std::string& order_id,
                                       const std::string& register_id, const std::vector<ReceiptTender>& tenders) {
    const std::string rule(kWidth, '-');
    std::vector<std::string> out;
    if (!shop_name.empty()) out.push_back(shop_name);
    out.push_back(two_columns("Receipt", order_id));
    std::string when = tenders.empty() ? "" : iso_utc(tenders.back().payment.updated_utc_ms);
    out.push_back(two_columns("Register " + register_id, when));
    out.push_back(rule);
    std::optional<Money> total;
    bool mixed = false;
    for (const auto& t : tenders) {
        const auto& p = t.payment;
        out.push_back(two_columns(tender_name(p), format_money(p.request.amount) + " " + std::string(p.request.amount.currency.code())));
        std::string detail;
        if (!p.terminal.pan.str().empty()) detail += "  " + p.terminal.pan.str();
        if (!p.terminal.approval_code.empty()) detail += "  Approval " + p.terminal.approval_code;
        if (p.terminal.receipt_no) detail += "  No " + std::to_string(*p.terminal.receipt_no);
        if (!detail.empty()) out.push_back(detail);
        if (!total) total = p.request.amount;
        else if (total->currency == p.request.amount.currency) total->minor += p.request.amount.minor;
        else mixed = true;
    }
    out.push_back(rule);
    if (total && !mixed) out.push_back(two_columns("TOTAL", format_money(*total) + " " + std::string(total->currency.code())));
    for (const auto& t : tenders) {
        if (t.slip.empty()) continue;
        out.push_back(rule);
        out.insert(out.end(), t.slip.begin(), t.slip.end());
    }
    return out;
}

std::vector<std::string> copy_lines(const std::vector<std::string>& original, const std::string& original_channel) {
    std::vector<std::string> out{"COPY \u2014 original delivered by " + channel_words(original_channel)};
    out.insert(out.end(), original.begin(), original.end());
    return out;
}

struct ReceiptFlow::Impl : std::enable_shared_from_this<ReceiptFlow::Impl> {
    ReceiptFlowDeps deps;
    ReceiptTiming timing;
    asio::steady_timer timer;
    bool stopped = false;

    explicit Impl(ReceiptFlowDeps d)
        : deps(std::move(d)),
          timing(ReceiptTimes{deps.config.qr_display, deps.config.choice_timeout,
                              std::chrono::hours(24) * deps.config.retention_days, std::chrono::hours(24)},
                 deps.clock_ms),
          timer(deps.executor) {
        if (!deps.new_id) deps.new_id = random_receipt_id;
    }

    std::int64_t now() const { return deps.clock_ms(); }
    std::string url_of(const std::string& id) const { return deps.config.public_url + id; }

    template <class T>
    void write(ledger::Ledger::Work<T> work, std::function<void(ledger::Result<T>)> then) {
        write_on_loop<T>(*deps.ledger, deps.executor, weak_from_this(), std::move(work), std::move(then));
    }
    void poke() {
        if (deps.outbox_poke) deps.outbox_poke();
    }

    // ---- the clock: no-choice windows and the daily deletion ---------------------------------
    void arm() {
        if (stopped) return;
        std::int64_t wait = std::clamp<std::int64_t>(timing.next_due() - now(), 0, 60'000);
        timer.expires_after(std::chrono::milliseconds(wait));
        std::weak_ptr<Impl> weak = weak_from_this();
        timer.async_wait([weak](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->stopped) return;
            self->tick();
        });
    }

    void tick() {
        for (const auto& id : timing.take_due()) finalise_as_qr(id);
        if (timing.purge_due()) {
            timing.purged();
            purge();
        }
        arm();
    }

    void purge() {
        const std::int64_t t = now();
        const std::int64_t cutoff = t - std::chrono::duration_cast<std::chrono::milliseconds>(timing.times().retention).count();
        write<std::int64_t>([t, cutoff](ledger::Tx& tx) { return ledger::receipts_purge(tx, t, cutoff); },
                            [](ledger::Result<std::int64_t> n) {
                                if (!n) return log::error("PB_RECEIPT_PURGE_FAILED", n.error().message);
                                if (*n > 0)
                                    log::info("PB_RECEIPT_PURGED", std::to_string(*n) + " receipt(s) deleted after their retention");
                            });
    }

    void start() {
        const std::int64_t timeout = deps.config.choice_timeout.count();
        write<std::vector<std::pair<std::string, std::int64_t>>>(
            [](ledger::Tx& tx) -> ledger::Result<std::vector<std::pair<std::string, std::int64_t>>> {
                auto open = ledger::receipts_open(tx);
                if (!open) return pb::unexpected(open.error());
                std::vector<std::pair<std::string, std::int64_t>> paid;
                for (const auto& r : *open) {
                    if (!r.qr_shown) continue;
                    auto pays = tx.by_order(r.order_id);
                    if (!pays) return pb::unexpected(pays.error());
                    std::optional<std::int64_t> last;  // the window runs from the last approval
                    for (const auto& p : *pays)
                        if (p.state == ledger::PaymentState::approved) last = std::max(last.value_or(0), p.updated_utc_ms);
                    if (last) paid.emplace_back(r.id, *last);
                }
                return paid;
            },
            [this, timeout](ledger::Result<std::vector<std::pair<std::string, std::int64_t>>> paid) {
                if (!paid) {
                    log::error("PB_RECEIPT_RECOVERY_FAILED", paid.error().message);
                } else {
                    for (const auto& [id, at] : *paid) timing.paid(id, at);
                    if (!paid->empty())
                        log::info("PB_RECEIPT_RECOVERY", std::to_string(paid->size()) + " paid receipt(s) wait for a choice (" +
                                                             std::to_string(timeout) + " ms after payment)");
                }
                tick();  // the first deletion round runs now
            });
    }

    // ---- finalising ----------------------------------------------------------------------------
    struct Choice {
        ReceiptChannel channel = ReceiptChannel::qr;
        std::string phone, email;
        std::string customer_id;
        bool remember = false;
    };
    struct Finalised {
        ledger::ReceiptRecord receipt;
        ledger::Payment payment;
        bool created = false;  // false: it was final already with this same choice
    };

    /// Inside a unit of work: the order's receipt (opened now if needed) made final with
    /// `choice` for `payment`, its document rendered and queued for the service.
    static ledger::Result<Finalised> finalise(ledger::Tx& tx, const EreceiptConfig& cfg, const std::string& new_id,
                                              std::int64_t now, std::chrono::milliseconds retention,
                                              const ledger::Payment& payment, const Choice& c) {
        const std::string order = payment.request.order_id;
        auto existing = ledger::receipt_by_order(tx, order);
        ledger::ReceiptRecord rec;
        if (existing) {
            rec = *existing;
        } else if (existing.error().code == ledger::Errc::not_found) {
            ledger::ReceiptOpenNew n;
            n.id = new_id;
            n.order_id = order;
            n.register_id = payment.request.register_id;
            n.customer_id = c.customer_id;
            n.delete_after_utc_ms = now + retention.count();
            auto opened = ledger::receipt_open(tx, n);
            if (!opened) return pb::unexpected(opened.error());
            rec = opened->receipt;
        } else {
            return pb::unexpected(existing.error());
        }
        const std::string channel(erp::to_string(c.channel));
        const std::string dest = destination_of(c.channel, c.phone, c.email);
        if (rec.state != ledger::ReceiptState::open) {
            if (rec.state == ledger::ReceiptState::final && rec.channel == channel && rec.destination == dest &&
                rec.payment == payment.id)
                return Finalised{rec, payment, false};
            return pb::unexpected(ledger::Error{
                ledger::Errc::invalid_transition,
                rec.state == ledger::ReceiptState::deleted
                    ? "the receipt of order " + order + " was deleted after its retention"
                    : "the receipt of order " + order + " was already delivered by " + rec.channel + "; use receipt.copy"});
        }
        auto pays = tx.by_order(order);
        if (!pays) return pb::unexpected(pays.error());
        std::vector<ReceiptTender> tenders;
        for (const auto& p : *pays) {
            if (p.state != ledger::PaymentState::approved) continue;
            auto slip = ledger::receipt_slip(tx, p.id);
            if (!slip) return pb::unexpected(slip.error());
            tenders.push_back({p, *slip});
        }
        ledger::ReceiptFinal f;
        f.channel = channel;
        f.destination = dest;
        f.payment = payment.id;
        f.lines = receipt_lines(cfg.shop_name, order, rec.register_id, tenders);
        auto done = ledger::receipt_finalise(tx, rec.id, f);
        if (!done) return pb::unexpected(done.error());
        if (c.remember && !c.customer_id.empty())
            if (auto s = ledger::receipt_choice_put(tx, {c.customer_id, channel, dest}); !s) return pb::unexpected(s.error());
        // Print and waste-basket need nothing from the service -- except a print whose QR page
        // a customer may be waiting on; the waste-basket is the service's (digital) basket.
        if (c.channel != ReceiptChannel::print || rec.qr_shown) {
            auto pdf = render_pdf(f.lines, "Receipt " + order);
            if (!pdf) return pb::unexpected(ledger::Error{ledger::Errc::storage, "receipt PDF: " + pdf.error()});
            up::ReceiptDeliver m;
            m.receipt_id = rec.id;
            m.register_id = rec.register_id;
            m.order_id = order;
            m.payment_ref = payment_ref(payment.id);
            m.channel = wire_channel(channel);
            m.phone = c.phone;
            m.email = c.email;
            m.email_mode = cfg.email_link ? up::EmailMode::link : up::EmailMode::attachment;
            m.issued_at = iso_utc(now);
            m.delete_at = iso_utc(rec.delete_after_utc_ms);
            m.document.pdf = std::move(*pdf);
            if (auto e = enqueue(tx, rec.id, deliver_key(rec.id), std::string(up::kReceiptDeliverPath), up::encode(m)); !e)
                return pb::unexpected(e.error());
        }
        return Finalised{*done, payment, true};
    }

    json::object delivered_json(const Finalised& f) const {
        const auto& r = f.receipt;
        json::object o{{"receipt_id", r.id},
                       {"payment_id", payment_ref(f.payment.id)},
                       {"order_id", r.order_id},
                       {"channel", r.channel}};
        if (r.channel == "print") {
            json::array lines;
            for (const auto& l : r.lines) lines.emplace_back(l);
            o["lines"] = std::move(lines);
        }
        if (r.channel != "print" && r.channel != "waste_basket") o["url"] = url_of(r.id);
        o["delete_at"] = iso_utc(r.delete_after_utc_ms);
        return o;
    }

    void announce(const Finalised& f) {
        timing.chosen(f.receipt.id);
        erp::ReceiptDelivered ev;
        ev.payment_id = payment_ref(f.payment.id);
        ev.order_id = f.receipt.order_id;
        ev.channel = *erp_channel(f.receipt.channel);
        if (f.receipt.channel != "print" && f.receipt.channel != "waste_basket") ev.url = url_of(f.receipt.id);
        log::info("PB_RECEIPT_DELIVERED", "order " + f.receipt.order_id + ": receipt by " + f.receipt.channel);
        deps.port->publish(std::move(ev));
        poke();
    }

    static std::optional<ReceiptChannel> erp_channel(const std::string& s) {
        for (auto c : {ReceiptChannel::print, ReceiptChannel::sms, ReceiptChannel::email, ReceiptChannel::waste_basket,
                       ReceiptChannel::qr})
            if (erp::to_string(c) == s) return c;
        return std::nullopt;
    }

    /// The window of receipt `id` has passed: a QR receipt -- unless another payment of the
    /// order is still under way (split tender): then it waits one more window.
    struct QrOutcome {
        std::optional<Finalised> done;
        bool payment_under_way = false;
    };
    void finalise_as_qr(const std::string& id) {
        const EreceiptConfig cfg = deps.config;
        const std::int64_t t = now();
        const auto retention = std::chrono::duration_cast<std::chrono::milliseconds>(timing.times().retention);
        write<QrOutcome>(
            [cfg, id, t, retention](ledger::Tx& tx) -> ledger::Result<QrOutcome> {
                auto rec = ledger::receipt_get(tx, id);
                if (!rec) return pb::unexpected(rec.error());
                if (rec->state != ledger::ReceiptState::open) return QrOutcome{};  // chosen meanwhile
                auto pays = tx.by_order(rec->order_id);
                if (!pays) return pb::unexpected(pays.error());
                const ledger::Payment* paid = nullptr;
                for (const auto& p : *pays) {
                    if (p.state == ledger::PaymentState::approved) paid = &p;
                    if (p.state == ledger::PaymentState::requested || p.state == ledger::PaymentState::sent)
                        return QrOutcome{std::nullopt, true};
                }
                if (!paid) return QrOutcome{};
                auto f = finalise(tx, cfg, id, t, retention, *paid, Choice{});
                if (!f) return pb::unexpected(f.error());
                return QrOutcome{*f, false};
            },
            [this, id](ledger::Result<QrOutcome> f) {
                if (!f) return log::error("PB_RECEIPT_NOT_FINALISED", "receipt of " + id.substr(0, 4) + "…: " + f.error().message);
                if (f->payment_under_way) {
                    timing.paid(id, now());
                    return arm();
                }
                if (f->done) {
                    log::info("PB_RECEIPT_NO_CHOICE", "order " + f->done->receipt.order_id + ": no choice within " +
                                                          std::to_string(deps.config.choice_timeout.count()) +
                                                          " ms after payment: a QR receipt");
                    announce(*f->done);
                }
            });
    }

    // ---- ERP requests ---------------------------------------------------------------------------
    bool refused_here(const std::string& client, const erp::Request& r, const std::string* register_id) {
        ErpPort& port = *deps.port;
        if (port.is_stopping()) {
            port.reply_err(client, err(ErrorCode::shutting_down, "", "paybridged is stopping", r));
            return true;
        }
        if (register_id && !port.known_register(*register_id)) {
            port.reply_err(client, err(ErrorCode::unknown_register, "/register", "no register '" + *register_id + "' is configured", r));
            return true;
        }
        return false;
    }

    void start_receipt(const std::string& client, const erp::Request& r, const erp::ReceiptStart& s) {
        if (refused_here(client, r, &s.register_id)) return;
        const std::int64_t t = now();
        ledger::ReceiptOpenNew n;
        n.id = deps.new_id();
        n.order_id = s.order_id;
        n.register_id = s.register_id;
        n.customer_id = s.customer_id;
        n.qr_shown = true;
        n.display_until_utc_ms = timing.display_until(t);
        n.delete_after_utc_ms = timing.delete_after(t);
        struct Started {
            ledger::ReceiptRecord receipt;
            std::optional<ledger::ReceiptChoice> suggestion;
        };
        write<Started>(
            [n, t](ledger::Tx& tx) -> ledger::Result<Started> {
                auto opened = ledger::receipt_open(tx, n);
                if (!opened) return pb::unexpected(opened.error());
                if (opened->created) {
                    up::ReceiptOpen m;
                    m.receipt_id = n.id;
                    m.register_id = n.register_id;
                    m.opened_at = iso_utc(t);
                    m.display_until = iso_utc(*n.display_until_utc_ms);
                    m.delete_at = iso_utc(n.delete_after_utc_ms);
                    if (auto e = enqueue(tx, n.id, open_key(n.id), std::string(up::kReceiptOpenPath), up::encode(m)); !e)
                        return pb::unexpected(e.error());
                }
                Started out{opened->receipt, std::nullopt};
                if (!n.customer_id.empty()) {
                    auto c = ledger::receipt_choice(tx, n.customer_id);
                    if (!c) return pb::unexpected(c.error());
                    out.suggestion = *c;
                }
                return out;
            },
            [this, client, r](ledger::Result<Started> res) {
                if (!res) return deps.port->reply_err(client, from_ledger(res.error(), r));
                const auto& rec = res->receipt;
                auto qr = qr_encode(url_of(rec.id));
                if (!qr) return deps.port->reply_err(client, err(ErrorCode::internal, "", qr.error(), r));
                json::object o{{"receipt_id", rec.id},
                               {"order_id", rec.order_id},
                               {"state", std::string(ledger::receipt_state_id(rec.state))},
                               {"url", url_of(rec.id)},
                               {"qr_svg", qr_svg(*qr)},
                               {"qr_text", qr_text(*qr)},
                               {"qr_version", qr->version},
                               {"display_until", iso_utc(rec.display_until_utc_ms.value_or(rec.opened_utc_ms))},
                               {"choice_timeout_ms", deps.config.choice_timeout.count()},
                               {"delete_at", iso_utc(rec.delete_after_utc_ms)}};
                if (!rec.channel.empty()) o["channel"] = rec.channel;
                if (const auto& sug = res->suggestion) {
                    o["suggested_channel"] = sug->channel;
                    if (sug->channel == "sms") o["suggested_phone"] = sug->destination;
                    if (sug->channel == "email") o["suggested_email"] = sug->destination;
                }
                deps.port->reply_ok(client, r, std::move(o));
                poke();
            });
    }

    /// The approved payment a receipt request names, or the error reply already sent.
    std::optional<ledger::Payment> approved_payment(const std::string& client, const erp::Request& r, const std::string& ref) {
        auto id = parse_payment_ref(ref);
        std::optional<ledger::Payment> p;
        if (id)
            if (auto found = deps.ledger->reader()->payment(*id)) p = *found;
        if (!p) {
            deps.port->reply_err(client, err(ErrorCode::unknown_payment, "/payment_id", "no payment '" + ref + "'", r));
            return std::nullopt;
        }
        if (p->state != ledger::PaymentState::approved) {
            deps.port->reply_err(client, err(ErrorCode::invalid_state, "/payment_id",
                                             "payment " + ref + " is " + std::string(ledger::state_id(p->state)) +
                                                 "; a receipt needs an approved payment", r));
            return std::nullopt;
        }
        return *p;
    }

    void deliver(const std::string& client, const erp::Request& r, const erp::ReceiptDeliver& d) {
        if (refused_here(client, r, nullptr)) return;
        // Seed e-receipt-sv: "E-papperskorgen är på grund av lagkrav spärrad i Norge".
        if (d.channel == ReceiptChannel::waste_basket && !deps.config.waste_basket_allowed())
            return deps.port->reply_err(client, err(ErrorCode::channel_not_allowed, "/channel",
                                                    "the waste-basket is not allowed in jurisdiction " + deps.config.jurisdiction +
                                                        " (a receipt must be handed over); choose print, sms, email or qr", r));
        auto payment = approved_payment(client, r, d.payment_id);
        if (!payment) return;
        Choice c{d.channel, d.phone, d.email, d.customer_id, d.remember};
        const EreceiptConfig cfg = deps.config;
        const std::string id = deps.new_id();
        const std::int64_t t = now();
        const auto retention = std::chrono::duration_cast<std::chrono::milliseconds>(timing.times().retention);
        ledger::Payment p = *payment;
        write<Finalised>([cfg, id, t, retention, p, c](ledger::Tx& tx) { return finalise(tx, cfg, id, t, retention, p, c); },
                         [this, client, r](ledger::Result<Finalised> f) {
                             if (!f) {
                                 if (f.error().code == ledger::Errc::invalid_transition)
                                     return deps.port->reply_err(client, err(ErrorCode::invalid_state, "/channel", f.error().message, r));
                                 return deps.port->reply_err(client, from_ledger(f.error(), r));
                             }
                             deps.port->reply_ok(client, r, delivered_json(*f));
                             if (f->created) announce(*f);
                         });
    }

    void copy(const std::string& client, const erp::Request& r, const erp::ReceiptCopy& c) {
        if (refused_here(client, r, nullptr)) return;
        // The parser refuses these already (protocol/erp/README.md §7); kept for other callers.
        if (c.channel == ReceiptChannel::waste_basket || c.channel == ReceiptChannel::qr)
            return deps.port->reply_err(client, err(ErrorCode::channel_not_allowed, "/channel",
                                                    "a receipt copy goes by print, sms or email, never to the waste-basket", r));
        auto payment = approved_payment(client, r, c.payment_id);
        if (!payment) return;
        const EreceiptConfig cfg = deps.config;
        const std::int64_t t = now();
        const std::string order = payment->request.order_id;
        struct Copied {
            ledger::ReceiptRecord receipt;
            std::int64_t number = 0;
            std::vector<std::string> lines;
        };
        write<Copied>(
            [cfg, t, order, c](ledger::Tx& tx) -> ledger::Result<Copied> {
                auto rec = ledger::receipt_by_order(tx, order);
                if (!rec) return pb::unexpected(rec.error());
                auto n = ledger::receipt_add_copy(tx, rec->id, erp::to_string(c.channel), c.operator_id);
                if (!n) return pb::unexpected(n.error());
                Copied out{*rec, *n, copy_lines(rec->lines, rec->channel)};
                if (c.channel != ReceiptChannel::print) {
                    auto pdf = render_pdf(out.lines, "Receipt " + order + " (copy)");
                    if (!pdf) return pb::unexpected(ledger::Error{ledger::Errc::storage, "receipt PDF: " + pdf.error()});
                    up::ReceiptCopy m;
                    m.receipt_id = rec->id;
                    m.copy_id = "c" + std::to_string(*n);
                    m.channel = wire_channel(std::string(erp::to_string(c.channel)));
                    m.phone = c.phone;
                    m.email = c.email;
                    m.email_mode = cfg.email_link ? up::EmailMode::link : up::EmailMode::attachment;
                    m.original_channel = wire_channel(rec->channel);
                    m.issued_at = iso_utc(t);
                    m.delete_at = iso_utc(rec->delete_after_utc_ms);
                    m.document.pdf = std::move(*pdf);
                    if (auto e = enqueue(tx, rec->id, copy_key(rec->id, *n), up::receipt_copies_path(rec->id), up::encode(m)); !e)
                        return pb::unexpected(e.error());
                }
                return out;
            },
            [this, client, r, c](ledger::Result<Copied> res) {
                if (!res) {
                    if (res.error().code == ledger::Errc::not_found)
                        return deps.port->reply_err(client, err(ErrorCode::invalid_state, "/payment_id",
                                                                "payment " + c.payment_id + " has no receipt to copy yet", r));
                    if (res.error().code == ledger::Errc::invalid_transition)
                        return deps.port->reply_err(client, err(ErrorCode::invalid_state, "/payment_id", res.error().message, r));
                    return deps.port->reply_err(client, from_ledger(res.error(), r));
                }
                json::object o{{"receipt_id", res->receipt.id},
                               {"payment_id", c.payment_id},
                               {"channel", std::string(erp::to_string(c.channel))},
                               {"original_channel", res->receipt.channel},
                               {"copy", res->number}};
                if (c.channel == ReceiptChannel::print) {
                    json::array lines;
                    for (const auto& l : res->lines) lines.emplace_back(l);
                    o["lines"] = std::move(lines);
                } else {
                    o["url"] = url_of(res->receipt.id);
                }
                log::info("PB_RECEIPT_COPY", "order " + res->receipt.order_id + ": copy " + std::to_string(res->number) +
                                                 " by " + std::string(erp::to_string(c.channel)) + " (original by " +
                                                 res->receipt.channel + ")");
                deps.port->reply_ok(client, r, std::move(o));
                poke();
            });
    }

    // ---- what the daemon publishes --------------------------------------------------------------
    void observe(const erp::EventBody& event) {
        if (const auto* rc = std::get_if<erp::PaymentReceipt>(&event)) {
            if (rc->receipt_type != erp::ReceiptType::customer || rc->lines.empty()) return;
            auto id = parse_payment_ref(rc->payment_id);
            if (!id) return;
            std::vector<std::string> lines = rc->lines;
            ledger::PaymentId pid = *id;
            write<bool>(
                [pid, lines](ledger::Tx& tx) -> ledger::Result<bool> {
                    if (auto s = ledger::receipt_slip_put(tx, pid, lines); !s) return pb::unexpected(s.error());
                    return true;
                },
                [](ledger::Result<bool> ok) {
                    if (!ok) log::warn("PB_RECEIPT_SLIP_NOT_KEPT", ok.error().message);
                });
            return;
        }
        if (const auto* res = std::get_if<erp::PaymentResult>(&event)) {
            if (res->payment.state != erp::PaymentState::approved) return;
            const std::string order = res->payment.order_id;
            const std::int64_t t = now();
            write<std::optional<std::string>>(
                [order](ledger::Tx& tx) -> ledger::Result<std::optional<std::string>> {
                    auto rec = ledger::receipt_by_order(tx, order);
                    if (!rec) {
                        if (rec.error().code == ledger::Errc::not_found) return std::optional<std::string>{};
                        return pb::unexpected(rec.error());
                    }
                    if (rec->state != ledger::ReceiptState::open || !rec->qr_shown) return std::optional<std::string>{};
                    return std::optional<std::string>{rec->id};
                },
                [this, t](ledger::Result<std::optional<std::string>> id) {
                    if (!id || !*id) return;
                    timing.paid(**id, t);
                    arm();
                });
        }
    }
};

ReceiptFlow::ReceiptFlow(ReceiptFlowDeps deps) : impl_(std::make_shared<Impl>(std::move(deps))) {}
ReceiptFlow::~ReceiptFlow() { stop(); }

void ReceiptFlow::start() { impl_->start(); }

void ReceiptFlow::stop() {
    impl_->stopped = true;
    impl_->timer.cancel();
}

bool ReceiptFlow::handle(const std::string& client, const erp::Request& r) {
    if (const auto* s = std::get_if<erp::ReceiptStart>(&r.body)) {
        impl_->start_receipt(client, r, *s);
        return true;
    }
    if (const auto* d = std::get_if<erp::ReceiptDeliver>(&r.body)) {
        impl_->deliver(client, r, *d);
        return true;
    }
    if (const auto* c = std::get_if<erp::ReceiptCopy>(&r.body)) {
        impl_->copy(client, r, *c);
        return true;
    }
    return false;
}

void ReceiptFlow::observe(const erp::EventBody& event) { impl_->observe(event); }

}  // namespace pb::daemon
