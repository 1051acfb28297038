#include "daemon/payment_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <ctime>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "adapters/crash_point.hpp"
#include "daemon/business_day.hpp"
#include "daemon/card_read.hpp"
#include "daemon/eod_batch.hpp"
#include "daemon/erp_views.hpp"
#include "daemon/ledger_on_loop.hpp"
#include "daemon/log.hpp"
#include "daemon/metrics.hpp"
#include "daemon/recovery.hpp"
#include "ledger/day_close.hpp"
#include "ledger/reconcile.hpp"
#include "protocol/erp/event.hpp"
#include "protocol/erp/reply.hpp"
#include "protocol/erp/request.hpp"
#include "protocol/erp/view.hpp"
#include "protocol/zvt/tables.hpp"

namespace pb::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
using adapters::TerminalState;
using erp::ErpError;
using erp::ErrorCode;

namespace {

erp::InterimEntry interim_of(const ledger::Payment& p) {
    erp::InterimEntry e;
    e.entry_id = "i-" + std::to_string(p.id.value);
    e.order_id = p.request.order_id;
    e.payment_id = payment_ref(p.id);
    e.amount = p.request.amount;
    e.terminal = p.request.terminal_id;
    e.register_id = p.request.register_id;
    e.created_at = iso_utc(p.created_utc_ms);
    if (p.state == ledger::PaymentState::resolved && p.resolution) {
        e.open = false;
        e.reason = "resolved";
        e.resolution = std::string(ledger::resolution_id(p.resolution->how));
        e.resolved_by = p.resolution->operator_id;
        e.resolved_at = iso_utc(p.updated_utc_ms);
        e.note = p.resolution->why;
    } else {
        e.reason = std::string(ledger::state_id(p.state));
    }
    return e;
}

ledger::TerminalData terminal_data(const zvt::TransactionData& d, const std::string& reason) {
    ledger::TerminalData t;
    if (d.card_type) t.brand = zvt::brand_from_card_type(*d.card_type);
    if (d.masked_pan)
        if (auto pan = MaskedPan::from_digits(*d.masked_pan)) t.pan = *pan;
    t.trace = d.trace;
    if (d.receipt_no) t.receipt_no = *d.receipt_no;
    if (d.approval_code) t.approval_code = *d.approval_code;
    if (d.tid) t.terminal_tid = std::to_string(*d.tid);
    t.result_code = d.result_code;
    t.text = reason;
    return t;
}

json::object evidence_json(const zvt::TransactionData& d) {
    json::object o;
    o["result_code"] = d.result_code;
    if (d.amount) o["amount"] = *d.amount;
    if (d.trace) o["trace"] = *d.trace;
    if (d.receipt_no) o["receipt_no"] = *d.receipt_no;
    if (d.card_type) o["card_type"] = *d.card_type;
    if (d.masked_pan) o["masked_pan"] = MaskedPan::from_digits(*d.masked_pan).value_or(MaskedPan{}).str();
    if (d.approval_code) o["approval_code"] = *d.approval_code;
    if (d.tid) o["tid"] = *d.tid;
    if (d.time_hhmmss) o["time"] = *d.time_hhmmss;
    if (d.date_mmdd) o["date"] = *d.date_mmdd;
    return o;
}

}  // namespace

// What one terminal is doing right now.
enum class Job : std::uint8_t { none, sale, reversal, refund, recovery, end_of_day, read_card };

namespace crash = adapters::crash;

// The terminal's record of a refund/reversal in flight (subject "terminal:<id>"): started with
// the intent, finished with its outcome in the same unit as the ledger's state change.
constexpr const char* kOperationStarted = "terminal.operation_started";
constexpr const char* kOperationFinished = "terminal.operation_finished";

// Repeat receipts left unanswered before a payment is recorded undecided: 0.25+0.5+1+2 s.
constexpr int kRecoveryRetries = 4;
constexpr std::chrono::milliseconds kRecoveryRetryWait{250};

/// The crash-point prefix of what a terminal is doing (adapters/crash_point.hpp).
constexpr std::string_view crash_prefix(Job j) {
    switch (j) {
        case Job::sale: return crash::flow_prefix(crash::Flow::sale);
        case Job::reversal: return crash::flow_prefix(crash::Flow::reversal);
        case Job::refund: return crash::flow_prefix(crash::Flow::refund);
        case Job::recovery: return crash::flow_prefix(crash::Flow::recovery);
        case Job::end_of_day: return crash::flow_prefix(crash::Flow::day_close);
        case Job::read_card:
        case Job::none: return {};
    }
    return {};
}

struct TerminalSlot {
    TerminalConfig config;
    std::unique_ptr<adapters::ZvtTerminal> driver;
    TerminalState state = TerminalState::offline;
    bool online_announced = false;
    Job job = Job::none;             // reserved while not none
    ledger::PaymentId payment{};     // the payment the job is about
    std::string client;              // who waits for a reply (reversal, refund)
    erp::Request request;            // that request
    std::vector<std::string> receipt_lines;
    std::uint8_t receipt_type = 0;
    std::vector<ledger::PaymentId> to_recover;
    bool recovering = false;  // a recovery round is under way (ledger write or repeat receipt)
    /// A refund/reversal whose outcome was not seen (its intent is the terminal's newest
    /// event): asked about first in a recovery round; op_checked once that was tried.
    struct OpenOperation {
        ledger::PaymentId payment;
        bool refund = false;
        std::string operator_id;
    };
    std::optional<OpenOperation> recover_op;
    bool op_checked = false;
    int recovery_retries = 0;  // repeat receipts the terminal left unanswered this round
    std::unique_ptr<boost::asio::steady_timer> retry_timer;
    std::optional<std::uint16_t> last_receipt;     // mirrored in TLV 1F1F when receipt_sync is on
    std::optional<TerminalConfig> pending_config;  // from a reload, applied when idle
    bool remove_pending = false;                    // removed by a reload, dropped when idle
    std::int64_t last_seen_ms = 0;
};

struct PaymentService::Impl : ErpPort, std::enable_shared_from_this<PaymentService::Impl> {
    std::chrono::minutes day_starts_at{0};  // [ledger] day_starts_at (business_day.hpp)
    CommitmentCardsConfig cards;             // [commitment_cards]: what card.read accepts
    PaymentServiceDeps deps;
    std::map<std::string, TerminalSlot> terminals;
    std::uint64_t seq = 0;
    bool started = false;
    bool stopping = false;
    std::function<void()> stop_done;
    std::unique_ptr<asio::steady_timer> stop_timer;

    std::int64_t now() const { return deps.clock_ms ? deps.clock_ms() : 0; }

    // ---- plumbing --------------------------------------------------------------------
    template <class T>
    void write(ledger::Ledger::Work<T> work, std::function<void(ledger::Result<T>)> then) {
        write_on_loop<T>(*deps.ledger, deps.executor, weak_from_this(), std::move(work), std::move(then));
    }

    void reply_ok(const std::string& client, const erp::Request& r, json::object result) override {
        count_reply("ok");
        deps.reply(client, erp::encode_ok(r.id, erp::type_name(r.body), std::move(result)));
    }
    void reply_err(const std::string& client, const ErpError& e) override {
        count_reply("error");
        deps.reply(client, erp::encode_error(e));
    }
    bool is_stopping() const override { return stopping; }

    // ---- /metrics ----
    void count_reply(const char* result) {
        if (deps.metrics)
            deps.metrics->counter("paybridge_erp_replies_total", "Replies to ERP requests", {{"result", result}}).inc();
    }
    void count_result(const std::string& tid, ledger::PaymentState st) {
        if (deps.metrics)
            deps.metrics
                ->counter("paybridge_payments_total", "Payment results recorded, by terminal and state",
                          {{"terminal", tid}, {"state", std::string(ledger::state_id(st))}})
                .inc();
    }
    void set_online(const std::string& tid, bool online) {
        if (deps.metrics)
            deps.metrics->gauge("paybridge_terminal_online", "1 while the terminal is online", {{"terminal", tid}})
                .set(online ? 1 : 0);
    }

    void publish(erp::EventBody body) override {
        if (deps.observe) deps.observe(body);
        erp::Event e{++seq, iso_utc(now()), std::move(body)};
        auto enc = erp::encode_event(e);
        deps.publish(std::move(enc.topic), std::move(enc.payload));
    }

    void publish_result(const ledger::Payment& p) {
        publish(erp::PaymentResult{view_of(p)});
        if (ledger::is_interim(p.state) || p.state == ledger::PaymentState::resolved)
            publish(erp::InterimChanged{interim_of(p)});
    }

    bool known_register(const std::string& id) const override {
        for (const auto& [tid, s] : terminals)
            if (s.config.register_id == id) return true;
        return false;
    }

    TerminalSlot* slot(const std::string& id) {
        auto it = terminals.find(id);
        return it == terminals.end() ? nullptr : &it->second;
    }

    // ---- terminals --------------------------------------------------------------------
    void start_terminals() {
        started = true;
        for (auto& [id, s] : terminals) start_terminal(s);
    }

    void start_terminal(TerminalSlot& s) {
        std::weak_ptr<Impl> weak = shared_from_this();
        std::string tid = s.config.id;
        adapters::ZvtTerminalCallbacks cb;
        cb.on_state = [weak, tid](TerminalState st, const std::string& detail) {
            if (auto self = weak.lock()) self->on_state(tid, st, detail);
        };
        cb.on_progress = [weak, tid](const zvt::Progress& p) {
            if (auto self = weak.lock()) self->on_progress(tid, p);
        };
        cb.on_receipt = [weak, tid](const zvt::ReceiptText& r) {
            if (auto self = weak.lock()) self->on_receipt(tid, r);
        };
        cb.on_persist = [weak, tid](const zvt::PersistResult& r, std::function<void(bool)> done) {
            if (auto self = weak.lock())
                self->on_persist(tid, r, std::move(done));
            else
                done(false);
        };
        cb.on_finished = [weak, tid](const zvt::Finished& f) {
            if (auto self = weak.lock()) self->on_finished(tid, f);
        };
        s.state = TerminalState::offline;
        {
            // The newest receipt number this terminal gave us, for receipt-number sync.
            if (auto last = deps.ledger->reader()->last_receipt_no(s.config.id); last && *last)
                s.last_receipt = static_cast<std::uint16_t>(**last);
        }
        s.driver = deps.make_terminal(s.config, std::move(cb));
        // Anything left from before a restart is recovered before new work.
        s.job = Job::recovery;
        s.recovering = false;
        s.driver->start();
    }

    // SIGHUP: a terminal whose config changed gets a new driver as soon as it is idle; a
    // running payment is never cut short by a reload.
    void reload(const Config& next) {
        day_starts_at = next.ledger.day_starts_at;
        cards = next.commitment_cards;
        for (const auto& tc : next.terminals) {
            TerminalSlot* s = slot(tc.id);
            if (!s) {
                TerminalSlot& fresh = terminals[tc.id];
                fresh.config = tc;
                log::info("PB_TERMINAL_ADDED", "terminal " + tc.id + " added by reload");
                if (started) start_terminal(fresh);
                continue;
            }
            if (s->config == tc) continue;
            s->pending_config = tc;
            log::info("PB_TERMINAL_CHANGED", "terminal " + tc.id + " takes its new config when idle");
            if (s->job == Job::none) schedule_apply(tc.id);
        }
        for (auto& [id, s] : terminals) {
            if (next.terminal(id)) continue;
            s.remove_pending = true;
            log::info("PB_TERMINAL_REMOVED", "terminal " + id + " is removed when idle");
            if (s.job == Job::none) schedule_apply(id);
        }
    }

    void schedule_apply(const std::string& tid) {
        // Posted: never replace a driver from inside one of its own callbacks.
        std::weak_ptr<Impl> weak = shared_from_this();
        asio::post(deps.executor, [weak, tid] {
            if (auto self = weak.lock()) self->apply_pending(tid);
        });
    }

    void apply_pending(const std::string& tid) {
        TerminalSlot* s = slot(tid);
        if (!s || s->job != Job::none) return;  // busy again: applied at the next release
        if (s->remove_pending) {
            if (s->driver) s->driver->stop();
            terminals.erase(tid);
            return;
        }
        if (!s->pending_config) return;
        if (s->driver) s->driver->stop();
        s->config = *s->pending_config;
        s->pending_config.reset();
        start_terminal(*s);
    }

    void on_state(const std::string& tid, TerminalState st, const std::string& detail) {
        TerminalSlot* s = slot(tid);
        if (!s) return;
        s->state = st;
        s->last_seen_ms = now();
        if (st == TerminalState::ready) {
            if (!s->online_announced) {
                s->online_announced = true;
                publish(erp::TerminalOnline{tid, s->config.register_id});
                set_online(tid, true);
                log::info("PB_TERMINAL_ONLINE", "terminal " + tid + " online");
            }
            if (s->job == Job::recovery && !s->recovering) begin_recovery(*s);
        } else if (st == TerminalState::offline) {
            if (s->online_announced) {
                s->online_announced = false;
                publish(erp::TerminalOffline{tid, s->config.register_id, detail});
                set_online(tid, false);
                log::warn("PB_TERMINAL_OFFLINE", "terminal " + tid + " offline: " + detail);
            }
            // After a reconnect, whatever was in flight is recovered first.
            if (s->job == Job::none) s->job = Job::recovery;
        }
    }

    void on_progress(const std::string& tid, const zvt::Progress& p) {
        TerminalSlot* s = slot(tid);
        if (s && s->job == Job::read_card) return publish(erp::PaymentProgress{"", "", tid, p.code, p.text});
        if (!s || s->job != Job::sale) return;
        auto pay = deps.ledger->reader()->payment(s->payment);
        publish(erp::PaymentProgress{payment_ref(s->payment), pay ? pay->request.order_id : "", tid, p.code, p.text});
    }

    void on_receipt(const std::string& tid, const zvt::ReceiptText& r) {
        TerminalSlot* s = slot(tid);
        if (!s) return;
        s->receipt_lines.insert(s->receipt_lines.end(), r.lines.begin(), r.lines.end());
        if (r.receipt_type) s->receipt_type = r.receipt_type;
        if (!r.last) return;
        erp::PaymentReceipt ev;
        ev.payment_id = s->job == Job::sale ? payment_ref(s->payment) : "";
        if (s->job == Job::sale)
            if (auto pay = deps.ledger->reader()->payment(s->payment)) ev.order_id = pay->request.order_id;
        ev.terminal = tid;
        // 1F07: 01 merchant, 02 customer, 03 administration (PA00P015 §9.4).
        ev.receipt_type = s->receipt_type == 1   ? erp::ReceiptType::merchant
                          : s->receipt_type == 3 ? erp::ReceiptType::administration
                                                 : erp::ReceiptType::customer;
        ev.lines = std::move(s->receipt_lines);
        s->receipt_lines.clear();
        s->receipt_type = 0;
        if (!ev.payment_id.empty()) publish(std::move(ev));
    }

    void on_persist(const std::string& tid, const zvt::PersistResult& r, std::function<void(bool)> done) {
        TerminalSlot* s = slot(tid);
        // Same subject as the ledger's own payment events, so the evidence sits in the payment's history.
        std::string subject = s && s->payment.value ? std::to_string(s->payment.value) : "terminal:" + tid;
        std::string kind = r.op == zvt::Operation::end_of_day ? "terminal.end_of_day_totals" : "evidence.result_received";
        json::object body = evidence_json(r.data);
        body["terminal"] = tid;
        body["operation"] = std::string(zvt::operation_name(r.op));
        if (r.op == zvt::Operation::end_of_day) {
            // Everything needed to close the ledger's day from this event alone, should the
            // daemon die before it does (eod_batch.hpp).
            if (r.data.totals) body["totals"] = to_json(eod_report(*r.data.totals));
            if (s)
                if (const auto* d = std::get_if<erp::DayCloseRun>(&s->request.body)) body["operator"] = d->operator_id;
        }
        std::string text = json::serialize(body);
        const std::string_view point_prefix = crash_prefix(s ? s->job : Job::none);
        // The moment of truth: the terminal's result is durable before ZVT acknowledges it.
        write<std::int64_t>(
            [kind, subject, text](ledger::Tx& tx) { return tx.append_event(kind, subject, text); },
            [done = std::move(done), tid, point_prefix](ledger::Result<std::int64_t> res) {
                if (!res) log::error("PB_PERSIST_FAILED", "terminal " + tid + ": " + res.error().message);
                if (res) PB_CRASH_POINT_OF(point_prefix, crash::kResultDurable);
                done(res.has_value());
            });
    }

    void on_finished(const std::string& tid, const zvt::Finished& f) {
        TerminalSlot* s = slot(tid);
        if (!s) return;
        if (f.data && f.data->receipt_no && f.op != zvt::Operation::repeat_receipt) s->last_receipt = f.data->receipt_no;
        switch (s->job) {
            case Job::sale: return finish_sale(*s, f);
            case Job::recovery: return finish_recovery(*s, f);
            case Job::reversal:
            case Job::refund: return finish_reversal_or_refund(*s, f);
            case Job::end_of_day: return finish_end_of_day(*s, f);
            case Job::read_card: return finish_read_card(*s, f);
            case Job::none: return;
        }
    }

    void release(TerminalSlot& s) {
        s.job = Job::none;
        s.recovering = false;
        s.recover_op.reset();
        s.op_checked = false;
        s.recovery_retries = 0;
        s.payment = {};
        s.client.clear();
        if (s.pending_config || s.remove_pending) schedule_apply(s.config.id);
        maybe_finish_stop();
    }

    // ---- payments ---------------------------------------------------------------------
    void finish_sale(TerminalSlot& s, const zvt::Finished& f) {
        ledger::PaymentState outcome = ledger::PaymentState::unknown;
        switch (f.outcome) {
            case zvt::Outcome::approved: outcome = ledger::PaymentState::approved; break;
            case zvt::Outcome::declined: outcome = ledger::PaymentState::declined; break;
            case zvt::Outcome::rejected: outcome = ledger::PaymentState::declined; break;  // refused: nothing charged
            case zvt::Outcome::aborted: outcome = ledger::PaymentState::aborted; break;
            case zvt::Outcome::unknown:
            case zvt::Outcome::done: outcome = ledger::PaymentState::unknown; break;
        }
        ledger::TerminalData data = f.data ? terminal_data(*f.data, f.reason) : ledger::TerminalData{};
        data.text = f.reason;
        if (!f.data) data.result_code = f.result_code;
        ledger::PaymentId id = s.payment;
        std::string tid = s.config.id;
        write<ledger::Payment>(
            [id, outcome, data](ledger::Tx& tx) { return tx.record_result(id, outcome, data); },
            [this, tid, id, outcome](ledger::Result<ledger::Payment> r) {
                TerminalSlot* sl = slot(tid);
                if (!r) {
                    log::error("PB_RESULT_NOT_STORED", payment_ref(id) + ": " + r.error().message);
                } else {
                    PB_CRASH_POINT("sale.after_outcome_durable");
                    log::info("PB_PAYMENT_RESULT", payment_ref(id) + " " + std::string(ledger::state_id(outcome)));
                    count_result(tid, outcome);
                    publish_result(*r);
                    PB_CRASH_POINT("sale.after_event_published");
                }
                if (!sl) return;
                // An unknown outcome is recovered (repeat receipt) before the terminal takes
                // new work; so is an outcome the ledger could not store (the payment is still
                // `sent` there). Everything else frees the terminal.
                if (outcome == ledger::PaymentState::unknown || !r) {
                    sl->job = Job::recovery;
                    sl->recovering = false;
                    if (sl->state == TerminalState::ready) begin_recovery(*sl);
                } else {
                    release(*sl);
                }
            });
    }

    void start_payment(const std::string& client, const erp::Request& r, const erp::PaymentStart& ps) {
        if (stopping) return reply_err(client, err(ErrorCode::shutting_down, "", "paybridged is stopping", r));
        TerminalSlot* s = slot(ps.terminal);
        if (!s) return reply_err(client, err(ErrorCode::unknown_terminal, "/terminal", "no terminal '" + ps.terminal + "' is configured", r));
        if (!known_register(ps.register_id))
            return reply_err(client, err(ErrorCode::unknown_register, "/register", "no register '" + ps.register_id + "' is configured", r));
        if (!(s->config.currency == ps.total.currency))
            return reply_err(client, err(ErrorCode::currency_mismatch, "/currency",
                                         "terminal " + ps.terminal + " charges " + std::string(s->config.currency.code()), r));
        {
            auto reader = deps.ledger->reader();
            // The same request key again: that payment, never a second charge.
            if (auto existing = reader->by_request_key(ps.request_key)) {
                const auto& p = *existing;
                if (p.request.order_id != ps.order_id || p.request.amount.minor != ps.total.minor)
                    return reply_err(client, err(ErrorCode::request_key_conflict, "/request_key",
                                                 "request key already used for order " + p.request.order_id, r));
                return reply_ok(client, r, erp::to_json(view_of(p)));
            }
            if (auto e = check_operator(*reader, ps.operator_id, ledger::Right::take_card, r)) return reply_err(client, *e);
        }
        if (s->state == TerminalState::offline || s->state == TerminalState::registering)
            return reply_err(client, err(ErrorCode::terminal_offline, "/terminal", "terminal " + ps.terminal + " is offline", r));
        if (s->job != Job::none || s->state != TerminalState::ready)
            return reply_err(client, err(ErrorCode::terminal_busy, "/terminal", "terminal " + ps.terminal + " is busy", r));

        PB_CRASH_POINT("sale.after_request_read");
        // Reserved from here: a second request in the same loop tick sees the terminal busy.
        s->job = Job::sale;
        ledger::PaymentRequest req;
        req.order_id = ps.order_id;
        req.request_key = ps.request_key;
        req.amount = ps.total;
        req.tender = ledger::Tender::card;
        req.register_id = ps.register_id;
        req.terminal_id = ps.terminal;
        req.operator_id = ps.operator_id;
        req.receptionist = ps.receptionist;
        req.business_date = business_date(now(), day_starts_at);
        std::string tid = ps.terminal;
        write<ledger::Begun>(
            // `sent` is durable before the first byte of the authorisation leaves.
            [req](ledger::Tx& tx) { return tx.begin_and_mark_sent(req); },
            [this, client, r, tid](ledger::Result<ledger::Begun> res) {
                TerminalSlot* sl = slot(tid);
                if (!res || !res->created) {
                    if (sl) release(*sl);
                    if (!res) return reply_err(client, from_ledger(res.error(), r));
                    return reply_ok(client, r, erp::to_json(view_of(res->payment)));
                }
                PB_CRASH_POINT("sale.after_intent_durable");
                const ledger::Payment& p = res->payment;
                sl->payment = p.id;
                zvt::OperationRequest op;
                op.op = zvt::Operation::authorisation;
                op.amount = p.request.amount.minor;
                op.last_receipt = sl->last_receipt;
                if (!sl->driver->begin(op)) {
                    // The terminal went away between the check and now: nothing was sent.
                    ledger::PaymentId id = p.id;
                    write<ledger::Payment>(
                        [id](ledger::Tx& tx) {
                            ledger::TerminalData d;
                            d.text = "terminal not ready; the authorisation was not sent";
                            return tx.record_result(id, ledger::PaymentState::aborted, d);
                        },
                        [this, tid](ledger::Result<ledger::Payment> rr) {
                            if (rr) publish_result(*rr);
                            if (TerminalSlot* x = slot(tid)) release(*x);
                        });
                    return reply_err(client, err(ErrorCode::terminal_offline, "/terminal", "terminal " + tid + " went offline", r));
                }
                log::info("PB_PAYMENT_SENT", payment_ref(p.id) + " " + format_money(p.request.amount) + " to " + tid);
                reply_ok(client, r, erp::to_json(view_of(p)));
            });
    }

    void cash_record(const std::string& client, const erp::Request& r, const erp::CashRecord& c) {
        if (stopping) return reply_err(client, err(ErrorCode::shutting_down, "", "paybridged is stopping", r));
        {
            auto reader = deps.ledger->reader();
            if (auto existing = reader->by_request_key(c.request_key))
                return reply_ok(client, r, erp::to_json(view_of(*existing)));
            if (!known_register(c.register_id))
                return reply_err(client, err(ErrorCode::unknown_register, "/register", "no register '" + c.register_id + "' is configured", r));
            // Only designated operators may take cash (card-payment-module seed).
            if (auto e = check_operator(*reader, c.operator_id, ledger::Right::take_cash, r)) return reply_err(client, *e);
        }
        ledger::PaymentRequest req;
        req.order_id = c.order_id;
        req.request_key = c.request_key;
        req.amount = c.amount;
        req.tender = ledger::Tender::cash;
        req.register_id = c.register_id;
        req.operator_id = c.operator_id;
        req.receptionist = c.receptionist;
        req.business_date = business_date(now(), day_starts_at);
        PB_CRASH_POINT("cash.after_request_read");
        write<ledger::Payment>(
            [req](ledger::Tx& tx) -> ledger::Result<ledger::Payment> {
                auto b = tx.begin_and_mark_sent(req);
                if (!b) return pb::unexpected(b.error());
                if (!b->created) return b->payment;
                return tx.record_result(b->payment.id, ledger::PaymentState::approved, ledger::TerminalData{});
            },
            [this, client, r](ledger::Result<ledger::Payment> res) {
                if (!res) return reply_err(client, from_ledger(res.error(), r));
                PB_CRASH_POINT("cash.after_outcome_durable");
                reply_ok(client, r, erp::to_json(view_of(*res)));
                publish(erp::PaymentResult{view_of(*res)});
                PB_CRASH_POINT("cash.after_event_published");
            });
    }

    std::optional<ledger::Payment> find_payment(const erp::PaymentRef& ref) {
        auto reader = deps.ledger->reader();
        if (!ref.request_key.empty()) {
            auto p = reader->by_request_key(ref.request_key);
            if (p) return *p;
            return std::nullopt;
        }
        auto id = parse_payment_ref(ref.payment_id);
        if (!id) return std::nullopt;
        auto p = reader->payment(*id);
        if (p) return *p;
        return std::nullopt;
    }

    void cancel(const std::string& client, const erp::Request& r, const erp::PaymentCancel& c) {
        auto p = find_payment(c.ref);
        if (!p) return reply_err(client, err(ErrorCode::unknown_payment, "/payment_id", "no such payment", r));
        TerminalSlot* s = slot(p->request.terminal_id);
        if (!s || s->job != Job::sale || s->payment.value != p->id.value)
            return reply_err(client, err(ErrorCode::invalid_state, "/payment_id",
                                         payment_ref(p->id) + " is " + std::string(ledger::state_id(p->state)) +
                                             ", not waiting at the terminal",
                                         r));
        // The terminal decides: 06 B0 while it waits for the card, too late afterwards; the
        // outcome arrives as payment.result either way.
        s->driver->abort();
        reply_ok(client, r, erp::to_json(view_of(*p)));
    }

    void reverse_or_refund(const std::string& client, const erp::Request& r, const std::string& payment_id,
                           const std::string& operator_id, bool refund) {
        if (stopping) return reply_err(client, err(ErrorCode::shutting_down, "", "paybridged is stopping", r));
        auto id = parse_payment_ref(payment_id);
        std::optional<ledger::Payment> p;
        if (id)
            if (auto q = deps.ledger->reader()->payment(*id)) p = *q;
        if (!p) return reply_err(client, err(ErrorCode::unknown_payment, "/payment_id", "no payment '" + payment_id + "'", r));
        if (p->request.tender == ledger::Tender::benefit_voucher) {
            // A benefit voucher is cancelled / credited at the benefit service (issue 7).
            if (deps.upstream && deps.upstream(client, r, *this)) return;
            return reply_err(client, err(ErrorCode::not_supported, "/payment_id", "benefit payments need [upstream.benefit]", r));
        }
        if (auto e = check_operator(*deps.ledger->reader(), operator_id, ledger::Right::refund, r)) return reply_err(client, *e);
        if (p->state != ledger::PaymentState::approved || p->request.tender != ledger::Tender::card)
            return reply_err(client, err(ErrorCode::invalid_state, "/payment_id",
                                         payment_ref(p->id) + " is " + std::string(ledger::state_id(p->state)), r));
        TerminalSlot* s = slot(p->request.terminal_id);
        if (!s) return reply_err(client, err(ErrorCode::unknown_terminal, "/terminal", "terminal no longer configured", r));
        if (s->state != TerminalState::ready || s->job != Job::none)
            return reply_err(client, err(s->state == TerminalState::ready ? ErrorCode::terminal_busy : ErrorCode::terminal_offline,
                                         "/terminal", "terminal " + s->config.id + " is not ready", r));
        if (!refund && !p->terminal.receipt_no)
            return reply_err(client, err(ErrorCode::invalid_state, "/payment_id", "no receipt number to reverse", r));
        zvt::OperationRequest op;
        op.op = refund ? zvt::Operation::refund : zvt::Operation::reversal;
        op.amount = p->request.amount.minor;
        op.last_receipt = s->last_receipt;
        if (p->terminal.receipt_no) op.receipt_no = static_cast<std::uint16_t>(*p->terminal.receipt_no);
        if (refund)
            PB_CRASH_POINT("refund.after_request_read");
        else
            PB_CRASH_POINT("reversal.after_request_read");
        s->job = refund ? Job::refund : Job::reversal;
        s->payment = p->id;
        s->client = client;
        s->request = r;
        // Intent first: who asked for what is durable before the terminal hears it.
        json::object intent;
        intent["operation"] = refund ? "refund" : "reversal";
        intent["operator"] = operator_id;
        intent["amount"] = op.amount;
        if (op.receipt_no) intent["receipt_no"] = *op.receipt_no;
        std::string body = json::serialize(intent);
        std::string subject = std::to_string(p->id.value);
        std::string tid = s->config.id;
        // And the terminal's own record that this operation is in flight: recovery finds it as
        // the terminal's newest event (Reader::last_event) until its outcome is written.
        json::object started = intent;
        started["payment"] = p->id.value;
        std::string started_body = json::serialize(started);
        std::string terminal_subject = "terminal:" + s->config.id;
        write<std::int64_t>(
            [subject, body, refund, terminal_subject, started_body](ledger::Tx& tx) -> ledger::Result<std::int64_t> {
                auto e = tx.append_event(refund ? "evidence.refund_requested" : "evidence.reversal_requested", subject, body);
                if (!e) return e;
                return tx.append_event(kOperationStarted, terminal_subject, started_body);
            },
            [this, tid, op, client, r](ledger::Result<std::int64_t> res) {
                TerminalSlot* sl = slot(tid);
                if (!sl) return;
                if (!res) {
                    release(*sl);
                    return reply_err(client, from_ledger(res.error(), r));
                }
                if (op.op == zvt::Operation::refund)
                    PB_CRASH_POINT("refund.after_intent_durable");
                else
                    PB_CRASH_POINT("reversal.after_intent_durable");
                if (!sl->driver->begin(op)) {
                    release(*sl);
                    return reply_err(client, err(ErrorCode::terminal_offline, "/terminal", "terminal not ready", r));
                }
            });
    }

    void finish_reversal_or_refund(TerminalSlot& s, const zvt::Finished& f) {
        const bool refund = s.job == Job::refund;
        std::string client = s.client;
        erp::Request r = s.request;
        ledger::PaymentId id = s.payment;
        std::string tid = s.config.id;
        std::string op_id;
        if (auto* pr = std::get_if<erp::PaymentReverse>(&r.body)) op_id = pr->operator_id;
        if (auto* pf = std::get_if<erp::PaymentRefund>(&r.body)) op_id = pf->operator_id;
        const std::string what = refund ? "refund" : "reversal";
        const std::string terminal_subject = "terminal:" + tid;
        if (f.outcome == zvt::Outcome::unknown) {
            // The terminal may have done it (link lost after its 04 0F): the intent stays open
            // and recovery asks the terminal before it takes new work; the payment stays
            // approved until then.
            reply_err(client, err(ErrorCode::invalid_state, "/payment_id",
                                  what + " outcome unknown (" + f.reason + "); the terminal is asked before new work", r));
            s.job = Job::recovery;
            s.recovering = false;
            s.client.clear();
            if (s.state == TerminalState::ready) begin_recovery(s);
            return;
        }
        if (f.outcome != zvt::Outcome::approved) {
            json::object fin{{"payment", id.value}, {"operation", what}, {"outcome", "not_done"}, {"reason", f.reason}};
            std::string fin_body = json::serialize(fin);
            write<std::int64_t>(
                [terminal_subject, fin_body](ledger::Tx& tx) { return tx.append_event(kOperationFinished, terminal_subject, fin_body); },
                [this, client, r, tid, what, reason = f.reason](ledger::Result<std::int64_t> res) {
                    if (TerminalSlot* sl = slot(tid)) release(*sl);
                    if (!res) return reply_err(client, from_ledger(res.error(), r));
                    reply_err(client, err(ErrorCode::invalid_state, "/payment_id", what + " not done by the terminal: " + reason, r));
                });
            return;
        }
        ledger::TerminalData data = f.data ? terminal_data(*f.data, f.reason) : ledger::TerminalData{};
        json::object fin{{"payment", id.value}, {"operation", what}, {"outcome", "done"}};
        std::string fin_body = json::serialize(fin);
        write<ledger::Payment>(
            [id, op_id, data, refund, terminal_subject, fin_body](ledger::Tx& tx) -> ledger::Result<ledger::Payment> {
                if (auto e = tx.append_event(kOperationFinished, terminal_subject, fin_body); !e) return pb::unexpected(e.error());
                return refund ? tx.mark_refunded(id, op_id, data) : tx.mark_reversed(id, op_id, data);
            },
            [this, client, r, tid, refund](ledger::Result<ledger::Payment> res) {
                if (TerminalSlot* sl = slot(tid)) release(*sl);
                if (!res) return reply_err(client, from_ledger(res.error(), r));
                if (refund)
                    PB_CRASH_POINT("refund.after_outcome_durable");
                else
                    PB_CRASH_POINT("reversal.after_outcome_durable");
                reply_ok(client, r, erp::to_json(view_of(*res)));
                publish(erp::PaymentResult{view_of(*res)});
                if (refund)
                    PB_CRASH_POINT("refund.after_event_published");
                else
                    PB_CRASH_POINT("reversal.after_event_published");
            });
    }

    // ---- recovery (docs/recovery.md; the decision itself is daemon/recovery.cpp) -----------
    /// The terminal's in-flight refund/reversal, if its intent is the terminal's newest event.
    std::optional<TerminalSlot::OpenOperation> open_operation(const std::string& tid) {
        auto last = deps.ledger->reader()->last_event("terminal:" + tid);
        if (!last || !*last || (*last)->kind != kOperationStarted) return std::nullopt;
        try {
            auto body = json::parse((*last)->body).as_object();
            TerminalSlot::OpenOperation op;
            op.payment = ledger::PaymentId{body.at("payment").to_number<std::int64_t>()};
            op.refund = body.at("operation").as_string() == "refund";
            op.operator_id = std::string(body.at("operator").as_string());
            return op;
        } catch (const std::exception& e) {
            log::error("PB_RECOVERY_FAILED", tid + ": unreadable " + std::string(kOperationStarted) + ": " + e.what());
            return std::nullopt;
        }
    }

    void begin_recovery(TerminalSlot& s) {
        s.recovering = true;
        if (!s.op_checked) {
            s.op_checked = true;
            if (auto op = open_operation(s.config.id)) {
                s.recover_op = op;
                s.payment = op->payment;
                zvt::OperationRequest rr;
                rr.op = zvt::Operation::repeat_receipt;
                if (!s.driver->begin(rr)) {
                    s.recover_op.reset();
                    s.op_checked = false;  // asked again after the next ready
                    s.recovering = false;
                    return;
                }
                log::info("PB_RECOVERY_ASK", s.config.id + ": repeat receipt for the " +
                                                 std::string(op->refund ? "refund" : "reversal") + " of " +
                                                 payment_ref(op->payment));
                return;
            }
        }
        auto pending = deps.ledger->reader()->pending_recovery(s.config.id);
        if (!pending || pending->empty()) {
            if (!pending) log::error("PB_RECOVERY_FAILED", s.config.id + ": " + pending.error().message);
            release(s);
            return;
        }
        std::vector<ledger::Payment> list = *pending;
        std::string tid = s.config.id;
        log::info("PB_RECOVERY_START", tid + ": " + std::to_string(list.size()) + " payment(s) to recover");
        // Never sent: reject. Sent: unknown (durably) until the terminal has been asked.
        struct Marked {
            std::vector<ledger::Payment> changed;  // rejected or newly unknown: the ERP hears of it
            std::vector<ledger::PaymentId> ask;
        };
        write<Marked>(
            [list](ledger::Tx& tx) -> ledger::Result<Marked> {
                Marked m;
                for (const auto& p : list) {
                    if (p.state == ledger::PaymentState::requested) {
                        auto r = tx.reject(p.id, "never sent to the terminal (daemon restarted)");
                        if (!r) return pb::unexpected(r.error());
                        m.changed.push_back(*r);
                        continue;
                    }
                    if (p.state == ledger::PaymentState::sent) {
                        auto r = tx.mark_unknown(p.id, "daemon restarted or link lost before the outcome");
                        if (!r) return pb::unexpected(r.error());
                        m.changed.push_back(*r);
                    }
                    m.ask.push_back(p.id);
                }
                return m;
            },
            [this, tid](ledger::Result<Marked> res) {
                TerminalSlot* sl = slot(tid);
                if (!res) {
                    log::error("PB_RECOVERY_FAILED", tid + ": " + res.error().message);
                    // Stays in recovery (busy); retried on the next ready.
                    if (sl) sl->recovering = false;
                    return;
                }
                if (!res->ask.empty()) PB_CRASH_POINT("recovery.after_unknown_durable");
                for (const auto& p : res->changed) publish_result(p);
                if (!sl) return;
                sl->to_recover = res->ask;
                ask_terminal(*sl);
            });
    }

    void ask_terminal(TerminalSlot& s) {
        if (s.to_recover.empty()) return release(s);
        // Only the newest can be the terminal's last transaction; older ones (rare: one
        // outstanding transaction per terminal) stay unknown in the interim account.
        s.payment = s.to_recover.back();
        zvt::OperationRequest op;
        op.op = zvt::Operation::repeat_receipt;
        if (!s.driver->begin(op)) {
            s.to_recover.clear();  // asked again after the next ready
            s.recovering = false;
            return;
        }
        log::info("PB_RECOVERY_ASK", s.config.id + ": repeat receipt for " + payment_ref(s.payment));
    }

    RecoveryFacts recovery_facts(const ledger::Payment& p, const zvt::Finished& f) {
        RecoveryFacts facts;
        ledger::HistoryFilter filter;
        filter.terminal_id = p.request.terminal_id;
        filter.limit = 1000000;
        auto hist = deps.ledger->reader()->history(filter);
        if (!hist) return facts;
        const std::optional<std::uint16_t> receipt = f.data ? f.data->receipt_no : std::nullopt;
        for (const auto& other : *hist) {
            if (other.id.value == p.id.value || !other.terminal.receipt_no) continue;
            if (other.id.value < p.id.value && (!facts.previous || facts.previous->id.value < other.id.value))
                facts.previous = other;
            if (receipt && *other.terminal.receipt_no == *receipt) facts.receipt_owners.push_back(other.id);
        }
        return facts;
    }

    /// The terminal gave no answer to the repeat receipt: it refused the command (84 xx, e.g.
    /// still finishing the transaction of a daemon that died), completed without re-sending a
    /// 04 0F, timed out, or the link went.
    /// That is not the terminal's word on the payment, so ask again a few times, waiting
    /// longer each time, before recording the payment undecided. True if a retry is scheduled.
    bool retry_recovery_later(TerminalSlot& s, const zvt::Finished& f) {
        // done without a 04 0F: a Completion that was not the answer (a serial PT still
        // delivering the dead daemon's transaction's 06 0F when our 06 20 arrives).
        const bool no_answer = f.outcome == zvt::Outcome::rejected || f.outcome == zvt::Outcome::unknown ||
                               (f.outcome == zvt::Outcome::done && !f.data);
        if (!no_answer || stopping || s.recovery_retries >= kRecoveryRetries) return false;
        const auto wait = kRecoveryRetryWait * (1 << s.recovery_retries);
        ++s.recovery_retries;
        log::warn("PB_RECOVERY_RETRY", s.config.id + ": no answer to the repeat receipt (" + f.reason + "); asking again in " +
                                           std::to_string(wait.count()) + " ms");
        s.to_recover.clear();
        s.recover_op.reset();
        s.op_checked = false;
        s.recovering = true;  // nothing else starts a round meanwhile
        if (!s.retry_timer) s.retry_timer = std::make_unique<asio::steady_timer>(deps.executor);
        s.retry_timer->expires_after(wait);
        std::weak_ptr<Impl> weak = shared_from_this();
        s.retry_timer->async_wait([weak, tid = s.config.id](boost::system::error_code ec) {
            if (ec) return;
            auto self = weak.lock();
            if (!self) return;
            TerminalSlot* sl = self->slot(tid);
            if (!sl || sl->job != Job::recovery) return;
            sl->recovering = false;  // not ready now: the next ready starts the round
            if (sl->state == TerminalState::ready) self->begin_recovery(*sl);
        });
        return true;
    }

    void finish_operation_recovery(TerminalSlot& s, const zvt::Finished& f) {
        const TerminalSlot::OpenOperation op = *s.recover_op;
        s.recover_op.reset();
        auto p = deps.ledger->reader()->payment(op.payment);
        if (!p) return begin_recovery(s);
        OperationDecision d = decide_operation_recovery(*p, op.refund, f);
        const std::string tid = s.config.id;
        const std::string what = op.refund ? "refund" : "reversal";
        const char* outcome = d.outcome == OperationOutcome::done       ? "done"
                              : d.outcome == OperationOutcome::not_done ? "not_done"
                                                                        : "unknown";
        json::object evidence{{"terminal", tid}, {"operation", what}, {"decision", outcome}, {"evidence", d.evidence}};
        if (f.data) evidence["last_transaction"] = evidence_json(*f.data);
        std::string evidence_text = json::serialize(evidence);
        json::object fin{{"payment", op.payment.value}, {"operation", what}, {"outcome", outcome}};
        std::string fin_body = json::serialize(fin);
        ledger::TerminalData data = f.data ? terminal_data(*f.data, d.evidence) : ledger::TerminalData{};
        write<std::optional<ledger::Payment>>(
            [op, d, evidence_text, fin_body, data, tid](ledger::Tx& tx) -> ledger::Result<std::optional<ledger::Payment>> {
                if (auto e = tx.append_event("evidence.recovery", std::to_string(op.payment.value), evidence_text); !e)
                    return pb::unexpected(e.error());
                // Undecided: the intent stays the terminal's newest event, asked again next time.
                if (d.outcome == OperationOutcome::unknown) return std::optional<ledger::Payment>{};
                if (auto e = tx.append_event(kOperationFinished, "terminal:" + tid, fin_body); !e)
                    return pb::unexpected(e.error());
                if (d.outcome == OperationOutcome::not_done) return std::optional<ledger::Payment>{};
                auto r = op.refund ? tx.mark_refunded(op.payment, op.operator_id, data)
                                   : tx.mark_reversed(op.payment, op.operator_id, data);
                if (!r) return pb::unexpected(r.error());
                return std::optional<ledger::Payment>{*r};
            },
            [this, tid, op, what, why = d.evidence, outcome](ledger::Result<std::optional<ledger::Payment>> res) {
                if (!res) {
                    log::error("PB_RECOVERY_FAILED", payment_ref(op.payment) + " " + what + ": " + res.error().message);
                } else {
                    PB_CRASH_POINT("recovery.after_outcome_durable");
                    if (*res) {
                        log::info("PB_RECOVERED", payment_ref(op.payment) + " " + std::string(ledger::state_id((*res)->state)));
                        publish(erp::PaymentResult{view_of(**res)});
                    } else if (std::string_view(outcome) == "unknown") {
                        log::warn("PB_RECOVERY_UNDECIDED", payment_ref(op.payment) + " " + what + " undecided: " + why);
                    } else {
                        log::info("PB_RECOVERED", payment_ref(op.payment) + " " + what + " not done: " + why);
                    }
                }
                // Then the terminal's sent/unknown payments, if any.
                if (TerminalSlot* sl = slot(tid)) begin_recovery(*sl);
            });
    }

    void finish_recovery(TerminalSlot& s, const zvt::Finished& f) {
        if (retry_recovery_later(s, f)) return;
        if (s.recover_op) return finish_operation_recovery(s, f);
        if (s.to_recover.empty()) return release(s);
        ledger::PaymentId id = s.to_recover.back();
        s.to_recover.clear();
        auto p = deps.ledger->reader()->payment(id);
        if (!p) return release(s);
        RecoveryDecision d = decide_recovery(*p, f, recovery_facts(*p, f));
        std::string tid = s.config.id;
        // Another payment's receipt never lands on this one; the evidence event keeps it.
        ledger::TerminalData data = f.data && d.ours ? terminal_data(*f.data, d.evidence) : ledger::TerminalData{};
        data.text = d.evidence;
        ledger::PaymentState state = d.state;
        json::object evidence;
        evidence["terminal"] = tid;
        evidence["decision"] = std::string(ledger::state_id(state));
        evidence["evidence"] = d.evidence;
        if (f.data) evidence["last_transaction"] = evidence_json(*f.data);
        std::string evidence_text = json::serialize(evidence);
        write<ledger::Payment>(
            [id, state, data, evidence_text](ledger::Tx& tx) -> ledger::Result<ledger::Payment> {
                // What the terminal said is kept whatever the decision.
                if (auto e = tx.append_event("evidence.recovery", std::to_string(id.value), evidence_text); !e)
                    return pb::unexpected(e.error());
                auto r = tx.record_result(id, state, data);
                // unknown -> unknown is no transition: the evidence event above is the record.
                if (!r && state == ledger::PaymentState::unknown) return tx.payment(id);
                return r;
            },
            [this, tid, id, state, why = d.evidence](ledger::Result<ledger::Payment> res) {
                if (res) {
                    PB_CRASH_POINT("recovery.after_outcome_durable");
                    if (state == ledger::PaymentState::unknown)
                        log::warn("PB_RECOVERY_UNDECIDED", payment_ref(id) + " stays unknown: " + why);
                    else
                        log::info("PB_RECOVERED", payment_ref(id) + " " + std::string(ledger::state_id(res->state)));
                    publish_result(*res);
                } else {
                    log::error("PB_RECOVERY_FAILED", payment_ref(id) + ": " + res.error().message);
                }
                if (TerminalSlot* sl = slot(tid)) release(*sl);
            });
    }

    // ---- card.read: the terminal reads a commitment card (ZVT Read Card, §2.21) ----------
    void read_card(const std::string& client, const erp::Request& r, const erp::CardRead& c) {
        if (stopping) return reply_err(client, err(ErrorCode::shutting_down, "", "paybridged is stopping", r));
        if (cards.iins.empty())
            return reply_err(client, err(ErrorCode::not_supported, "", "no commitment cards are configured ([commitment_cards] iins)", r));
        TerminalSlot* s = slot(c.terminal);
        if (!s) return reply_err(client, err(ErrorCode::unknown_terminal, "/terminal", "no terminal '" + c.terminal + "' is configured", r));
        if (s->state == TerminalState::offline || s->state == TerminalState::registering)
            return reply_err(client, err(ErrorCode::terminal_offline, "/terminal", "terminal " + c.terminal + " is offline", r));
        if (s->job != Job::none || s->state != TerminalState::ready)
            return reply_err(client, err(ErrorCode::terminal_busy, "/terminal", "terminal " + c.terminal + " is busy", r));
        zvt::OperationRequest op;
        op.op = zvt::Operation::read_card;
        op.card_timeout_s = static_cast<std::uint8_t>(cards.read_timeout_s);
        s->job = Job::read_card;
        s->client = client;
        s->request = r;
        if (!s->driver->begin(op)) {
            release(*s);
            return reply_err(client, err(ErrorCode::terminal_offline, "/terminal", "terminal " + c.terminal + " went offline", r));
        }
    }

    void finish_read_card(TerminalSlot& s, const zvt::Finished& f) {
        const std::string client = s.client;
        const erp::Request r = s.request;
        const std::string tid = s.config.id;
        release(s);
        if (f.outcome != zvt::Outcome::done || !f.data || f.data->result_code != 0 || !f.data->track2) {
            std::string why = f.outcome == zvt::Outcome::done ? "the terminal reported no card data" : f.reason;
            return reply_err(client, err(ErrorCode::no_card_read, "/terminal", "terminal " + tid + " read no card: " + why, r));
        }
        auto id = commitment_card_id(*f.data->track2, cards);
        if (!id) {
            log::info("PB_CARD_REFUSED", "terminal " + tid + ": " + id.error());
            return reply_err(client, err(ErrorCode::commitment_invalid, "/terminal", id.error(), r));
        }
        log::info("PB_CARD_READ", "terminal " + tid + " read commitment card " + *id);
        reply_ok(client, r, json::object{{"card_id", *id}, {"terminal", tid}});
    }

    // ---- day-close -----------------------------------------------------------------------
    void day_close(const std::string& client, const erp::Request& r, const erp::DayCloseRun& d) {
        std::vector<TerminalSlot*> targets;
        for (auto& [id, s] : terminals)
            if (id == d.terminal || (!d.register_id.empty() && s.config.register_id == d.register_id)) targets.push_back(&s);
        if (targets.empty())
            return reply_err(client, err(d.terminal.empty() ? ErrorCode::unknown_register : ErrorCode::unknown_terminal,
                                         d.terminal.empty() ? "/register" : "/terminal", "nothing to close", r));
        if (auto e = check_operator(*deps.ledger->reader(), d.operator_id, ledger::Right::close_day, r)) return reply_err(client, *e);
        for (TerminalSlot* s : targets)
            if (s->state != TerminalState::ready || s->job != Job::none)
                return reply_err(client, err(ErrorCode::terminal_busy, "/terminal", "terminal " + s->config.id + " is not ready", r));
        PB_CRASH_POINT("day_close.after_request_read");
        json::array started;
        for (TerminalSlot* s : targets) {
            zvt::OperationRequest op;
            op.op = zvt::Operation::end_of_day;
            s->job = Job::end_of_day;
            s->request = r;
            if (s->driver->begin(op))
                started.push_back(json::value(s->config.id));
            else
                release(*s);
        }
        json::object result;
        result["terminals"] = std::move(started);
        reply_ok(client, r, std::move(result));
    }

    // ---- cash reconciliation (ledger/reconcile.hpp) ------------------------------------------
    void cash_reconcile(const std::string& client, const erp::Request& r, const erp::CashReconcile& c) {
        const TerminalSlot* of_register = nullptr;
        for (const auto& [id, s] : terminals)
            if (s.config.register_id == c.register_id) of_register = &s;
        if (!of_register)
            return reply_err(client, err(ErrorCode::unknown_register, "/register", "no register '" + c.register_id + "' is configured", r));
        if (!(of_register->config.currency == c.counted.currency))
            return reply_err(client, err(ErrorCode::currency_mismatch, "/currency",
                                         "register " + c.register_id + " counts " + std::string(of_register->config.currency.code()), r));
        {
            auto reader = deps.ledger->reader();
            // Counting the drawer: the cash right or the day-close right.
            if (auto e = check_operator(*reader, c.operator_id, ledger::Right::take_cash, r)) {
                if (e->code != ErrorCode::permission_denied || !reader->may(c.operator_id, ledger::Right::close_day))
                    return reply_err(client, *e);
            }
        }
        ledger::CashCountRequest req;
        req.register_id = c.register_id;
        req.business_date = business_date(now(), day_starts_at);
        req.counted_by = c.operator_id;
        req.counted_minor = c.counted.minor;
        req.currency = std::string(c.counted.currency.code());
        // No opening float or withdrawals in the ERP message (README §4 cash.reconcile): 0.
        write<ledger::CashCount>(
            [req](ledger::Tx& tx) { return ledger::reconcile_cash(tx, req); },
            [this, client, r](ledger::Result<ledger::CashCount> res) {
                if (!res) return reply_err(client, from_ledger(res.error(), r));
                erp::ReconcileView v;
                v.register_id = res->register_id;
                v.business_date = res->business_date;
                v.currency = res->currency;
                v.opening_float = res->float_minor;
                v.cash_in = res->sales_minor;
                v.cash_out = res->refunds_minor + res->withdrawals_minor;
                v.expected = res->expected_minor;
                v.counted = res->counted_minor;
                v.difference = res->difference_minor;
                log::info("PB_CASH_COUNTED", v.register_id + ": difference " + std::to_string(v.difference));
                reply_ok(client, r, erp::to_json(v));
            });
    }

    /// Totals of an end-of-day the terminal reported in an earlier run whose ledger close never
    /// happened: the newest `terminal.end_of_day_totals` before this one, if no close of the
    /// terminal followed it (eod_batch.hpp).
    std::optional<EodReport> unclosed_batch(const std::string& tid) {
        constexpr const char* kind = "terminal.end_of_day_totals";
        auto reader = deps.ledger->reader();
        auto current = reader->last_event("terminal:" + tid, kind, std::numeric_limits<std::int64_t>::max());
        if (!current || !*current) return std::nullopt;
        auto earlier = reader->last_event("terminal:" + tid, kind, (*current)->seq);
        if (!earlier || !*earlier) return std::nullopt;
        auto closed = reader->last_event("dayclose/" + tid);
        if (closed && *closed && (*closed)->seq > (*earlier)->seq) return std::nullopt;
        std::error_code ec;
        auto body = json::parse((*earlier)->body, ec);
        if (ec || !body.is_object() || !body.as_object().contains("totals") || !body.at("totals").is_object())
            return std::nullopt;
        return eod_report_from_json(body.at("totals").as_object());
    }

    void finish_end_of_day(TerminalSlot& s, const zvt::Finished& f) {
        erp::DayCloseResult res;
        res.terminal = s.config.id;
        res.register_id = s.config.register_id;
        res.business_date = business_date(now(), day_starts_at);
        res.currency = std::string(s.config.currency.code());
        res.ok = f.outcome == zvt::Outcome::approved || f.outcome == zvt::Outcome::done;
        if (!res.ok) res.error = f.reason;
        if (res.ok && f.data && f.data->totals) {
            const EodReport reported = eod_report(*f.data->totals);
            EodReport batch = batch_to_close(reported, unclosed_batch(res.terminal));
            if (!(batch == reported))
                log::warn("PB_DAY_CLOSE_UNFINISHED",
                          res.terminal + ": an earlier end-of-day of this terminal was never closed in the ledger "
                                         "(the daemon stopped in between); its totals are closed with this one");
            res.terminal_totals = std::move(batch.buckets);
        }
        std::string operator_id;
        if (const auto* d = std::get_if<erp::DayCloseRun>(&s.request.body)) operator_id = d->operator_id;
        release(s);
        if (!res.ok) {
            publish(erp::DayCloseDone{res});
            log::warn("PB_DAY_CLOSE_FAILED", res.terminal + ": terminal end-of-day failed: " + res.error);
            return;
        }
        // The ledger's day-close of the same batch (ledger/day_close.hpp): its per-issuer totals
        // next to the terminal's, a difference flagged there and here, never hidden.
        ledger::DayCloseRequest req;
        req.register_id = res.register_id;
        req.terminal_id = res.terminal;
        req.business_date = res.business_date;
        req.operator_id = operator_id;
        req.currency = res.currency;
        std::vector<ledger::TerminalBucket> buckets;
        for (const auto& t : res.terminal_totals) buckets.push_back({t.brand, t.count, t.amount});
        if (f.data && f.data->totals) req.terminal_totals = std::move(buckets);
        if (f.data && f.data->receipt_no) req.batch_reference = std::to_string(*f.data->receipt_no);
        const bool nothing_new = !req.terminal_totals || req.terminal_totals->empty();
        write<ledger::DayClose>(
            [req, nothing_new](ledger::Tx& tx) -> ledger::Result<ledger::DayClose> {
                auto closed = ledger::close_day(tx, req);
                if (closed || !nothing_new || closed.error().code != ledger::Errc::invalid_transition) return closed;
                // Closed already for this date and the terminal has nothing new: the same close
                // again (its day_close.done may never have reached the ERP, if the daemon died
                // right after the close was durable).
                ledger::DayCloseFilter same;
                same.terminal_id = req.terminal_id;
                same.date_from = same.date_to = req.business_date;
                auto earlier = ledger::day_closes(tx, same);
                if (!earlier || earlier->empty()) return closed;
                return earlier->back();
            },
            [this, res](ledger::Result<ledger::DayClose> closed) mutable {
                if (!closed) {
                    res.error = "ledger day-close: " + closed.error().message;
                    res.matches = false;
                } else {
                    for (const auto& line : closed->lines)
                        if (line.ledger_count != 0 || line.ledger_amount != 0)
                            res.ledger_totals.push_back({line.issuer_id.empty() ? "unassigned" : line.issuer_id,
                                                         line.ledger_count, line.ledger_amount});
                    for (const auto& b : closed->benefit) res.benefit_totals.push_back({b.provider_id, b.count, b.amount});
                    for (const auto& l : closed->commitment)
                        res.commitment_totals.push_back({l.billing_reference, l.count, l.amount});
                    if (res.terminal_totals.empty() && closed->has_terminal_totals) {
                        // The stored close answered again (nothing new at the terminal): its
                        // terminal figures, per issuer like the ledger's.
                        for (const auto& line : closed->lines)
                            if (line.terminal_count.value_or(0) != 0 || line.terminal_amount.value_or(0) != 0)
                                res.terminal_totals.push_back({line.issuer_id.empty() ? "unassigned" : line.issuer_id,
                                                               *line.terminal_count, *line.terminal_amount});
                    }
                    res.matches = closed->has_terminal_totals && !closed->differs;
                    PB_CRASH_POINT("day_close.after_outcome_durable");
                }
                publish(erp::DayCloseDone{res});
                PB_CRASH_POINT("day_close.after_event_published");
                log::info("PB_DAY_CLOSE", res.terminal + (res.matches ? ": terminal and ledger agree"
                                                                      : ": DIFFERENCE between terminal and ledger (" +
                                                                            res.error + ")"));
            });
    }

    // ---- queries ---------------------------------------------------------------------------
    erp::TerminalView terminal_view(const TerminalSlot& s) const {
        erp::TerminalView v;
        v.terminal = s.config.id;
        v.register_id = s.config.register_id;
        v.protocol = "zvt";
        v.link = std::holds_alternative<TcpTransport>(s.config.transport) ? "tcp" : "serial";
        v.online = s.state == TerminalState::ready || s.state == TerminalState::busy;
        v.busy = s.job != Job::none;
        if (s.job != Job::none && s.payment.value) v.payment_id = payment_ref(s.payment);
        v.currency = std::string(s.config.currency.code());
        if (s.last_seen_ms) v.last_seen = iso_utc(s.last_seen_ms);
        return v;
    }

    /// The README's view plus `state` (replies are open): offline, registering, recovering,
    /// ready or busy -- recovering until every unknown payment of the terminal is settled.
    json::object terminal_json(const TerminalSlot& s) const {
        json::object o = erp::to_json(terminal_view(s));
        std::string_view st = adapters::terminal_state_name(s.state);
        if (s.job == Job::recovery && (s.state == TerminalState::ready || s.state == TerminalState::busy))
            st = "recovering";
        else if (s.job != Job::none && s.state == TerminalState::ready)
            st = "busy";
        o["state"] = st;
        return o;
    }

    void handle(const std::string& client, std::string_view raw) {
        auto parsed = erp::parse_request(raw);
        if (!parsed) return reply_err(client, parsed.error());
        const erp::Request& r = *parsed;
        std::visit(
            [&](const auto& body) {
                using B = std::decay_t<decltype(body)>;
                if constexpr (std::is_same_v<B, erp::Hello>) {
                    reply_ok(client, r, erp::to_json(erp::HelloView{}));
                } else if constexpr (std::is_same_v<B, erp::Ping>) {
                    reply_ok(client, r, json::object{});
                } else if constexpr (std::is_same_v<B, erp::PaymentStart>) {
                    start_payment(client, r, body);
                } else if constexpr (std::is_same_v<B, erp::PaymentCancel>) {
                    cancel(client, r, body);
                } else if constexpr (std::is_same_v<B, erp::PaymentGet>) {
                    auto p = find_payment(body.ref);
                    if (!p) return reply_err(client, err(ErrorCode::unknown_payment, body.ref.request_key.empty() ? "/payment_id" : "/request_key", "no such payment", r));
                    reply_ok(client, r, erp::to_json(view_of(*p)));
                } else if constexpr (std::is_same_v<B, erp::OrderGet>) {
                    auto list = deps.ledger->reader()->by_order(body.order_id);
                    if (!list || list->empty())
                        return reply_err(client, err(ErrorCode::unknown_order, "/order_id", "no payments for order '" + body.order_id + "'", r));
                    erp::OrderView o;
                    o.order_id = body.order_id;
                    Money paid{0, list->front().request.amount.currency};
                    for (const auto& p : *list) {
                        o.payments.push_back(view_of(p));
                        if (p.state == ledger::PaymentState::approved) paid.minor += p.request.amount.minor;
                    }
                    o.paid = paid;
                    reply_ok(client, r, erp::to_json(o));
                } else if constexpr (std::is_same_v<B, erp::CashRecord>) {
                    cash_record(client, r, body);
                } else if constexpr (std::is_same_v<B, erp::PaymentRefund>) {
                    if (body.partial) return reply_err(client, err(ErrorCode::not_supported, "/amount", "partial refunds are not supported yet", r));
                    reverse_or_refund(client, r, body.payment_id, body.operator_id, true);
                } else if constexpr (std::is_same_v<B, erp::PaymentReverse>) {
                    reverse_or_refund(client, r, body.payment_id, body.operator_id, false);
                } else if constexpr (std::is_same_v<B, erp::InterimList>) {
                    // open: the interim account itself; resolved: entries a person closed; all: both.
                    std::vector<ledger::Payment> list;
                    if (body.state != erp::InterimState::resolved) {
                        auto open = deps.ledger->reader()->interim();
                        if (!open) return reply_err(client, from_ledger(open.error(), r));
                        list = std::move(*open);
                    }
                    if (body.state != erp::InterimState::open) {
                        ledger::HistoryFilter filter;
                        filter.state = ledger::PaymentState::resolved;
                        auto closed = deps.ledger->reader()->history(filter);
                        if (!closed) return reply_err(client, from_ledger(closed.error(), r));
                        list.insert(list.end(), closed->begin(), closed->end());
                    }
                    std::vector<json::object> items;
                    for (const auto& p : list) {
                        if (!body.terminal.empty() && p.request.terminal_id != body.terminal) continue;
                        if (!body.register_id.empty() && p.request.register_id != body.register_id) continue;
                        items.push_back(erp::to_json(interim_of(p)));
                    }
                    reply_ok(client, r, erp::list_json("entries", items));
                } else if constexpr (std::is_same_v<B, erp::InterimResolve>) {
                    auto id = parse_payment_ref(body.entry_id, "i-");
                    if (!id) return reply_err(client, err(ErrorCode::unknown_interim_entry, "/entry_id", "no entry '" + body.entry_id + "'", r));
                    if (auto e = check_operator(*deps.ledger->reader(), body.operator_id, ledger::Right::resolve_interim, r))
                        return reply_err(client, *e);
                    ledger::Resolution res;
                    res.how = static_cast<ledger::ResolutionKind>(body.resolution);
                    res.operator_id = body.operator_id;
                    res.why = body.reason;
                    ledger::PaymentId pid = *id;
                    write<ledger::Payment>([pid, res](ledger::Tx& tx) { return tx.resolve(pid, res); },
                                           [this, client, r](ledger::Result<ledger::Payment> p) {
                                               if (!p) {
                                                   auto e = from_ledger(p.error(), r);
                                                   if (p.error().code == ledger::Errc::not_found) e.code = ErrorCode::unknown_interim_entry;
                                                   return reply_err(client, e);
                                               }
                                               reply_ok(client, r, erp::to_json(interim_of(*p)));
                                               publish(erp::InterimChanged{interim_of(*p)});
                                           });
                } else if constexpr (std::is_same_v<B, erp::TerminalStatus>) {
                    std::vector<json::object> items;
                    for (const auto& [id, s] : terminals)
                        if (body.terminal.empty() || id == body.terminal) items.push_back(terminal_json(s));
                    if (!body.terminal.empty() && items.empty())
                        return reply_err(client, err(ErrorCode::unknown_terminal, "/terminal", "no terminal '" + body.terminal + "'", r));
                    reply_ok(client, r, erp::list_json("terminals", items));
                } else if constexpr (std::is_same_v<B, erp::DayCloseRun>) {
                    day_close(client, r, body);
                } else if constexpr (std::is_same_v<B, erp::CashReconcile>) {
                    cash_reconcile(client, r, body);
                } else if constexpr (std::is_same_v<B, erp::CardRead>) {
                    read_card(client, r, body);
                } else {
                    // The upstream flows (issue 7): handled when their service is configured.
                    if (deps.upstream && deps.upstream(client, r, *this)) return;
                    reply_err(client, err(ErrorCode::not_supported, "", std::string(erp::type_name(r.body)) + " is not supported by this daemon yet", r));
                }
            },
            r.body);
    }

    void maybe_finish_stop() {
        if (!stopping || !stop_done) return;
        for (auto& [id, s] : terminals)
            if (s.job != Job::none && s.job != Job::recovery) return;
        finish_stop();
    }

    void finish_stop() {
        if (!stop_done) return;
        auto done = std::move(stop_done);
        stop_done = nullptr;
        if (stop_timer) stop_timer->cancel();
        for (auto& [id, s] : terminals)
            if (s.driver) s.driver->stop();
        done();
    }
};

PaymentService::PaymentService(PaymentServiceDeps deps, const Config& config) : impl_(std::make_shared<Impl>()) {
    impl_->deps = std::move(deps);
    impl_->day_starts_at = config.ledger.day_starts_at;
    impl_->cards = config.commitment_cards;
    for (const auto& tc : config.terminals) impl_->terminals[tc.id].config = tc;
}

PaymentService::~PaymentService() {
    for (auto& [id, s] : impl_->terminals)
        if (s.driver) s.driver->stop();
}

void PaymentService::start() { impl_->start_terminals(); }

void PaymentService::reload(const Config& next) { impl_->reload(next); }

void PaymentService::handle(const std::string& client, std::string_view raw) { impl_->handle(client, raw); }

void PaymentService::handle_oversize(const std::string& client, std::size_t size) {
    ErpError e = ErpError::make(ErrorCode::message_too_large, "", "request of " + std::to_string(size) + " bytes is too large");
    impl_->reply_err(client, e);
}

void PaymentService::stop(std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
    impl_->stopping = true;
    impl_->stop_done = std::move(done);
    impl_->stop_timer = std::make_unique<asio::steady_timer>(impl_->deps.executor, deadline);
    std::weak_ptr<Impl> weak = impl_;
    impl_->stop_timer->async_wait([weak](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->finish_stop();  // in-flight work ends as unknown
    });
    impl_->maybe_finish_stop();
}

ErpPort& PaymentService::port() { return *impl_; }

std::string PaymentService::terminals_json() const {
    std::vector<json::object> items;
    for (const auto& [id, s] : impl_->terminals) items.push_back(impl_->terminal_json(s));
    return json::serialize(erp::list_json("terminals", items));
}

ledger::Status seed_ledger(ledger::Ledger& ledger, const Config& config) {
    ledger::IssuerConfig issuers = ledger::default_issuers();
    for (const auto& seed : config.issuers) {
        auto it = std::find_if(issuers.issuers.begin(), issuers.issuers.end(), [&](auto& i) { return i.id == seed.id; });
        ledger::Issuer is;
        if (it != issuers.issuers.end()) is = *it;
        is.id = seed.id;
        if (!seed.name.empty()) is.name = seed.name;
        if (!seed.account.empty()) is.account = seed.account;
        if (auto b = brand_from_id(seed.id); b && is.brands.empty()) is.brands.push_back(*b);
        if (it != issuers.issuers.end())
            *it = is;
        else
            issuers.issuers.push_back(is);
        for (const auto& bin : seed.bins) issuers.bin_ranges.push_back({bin.first, bin.last, seed.id});
    }
    std::vector<OperatorSeed> ops = config.operators;
    // An administrator first (bootstrap), then everyone else under that administrator.
    std::stable_partition(ops.begin(), ops.end(), [](const OperatorSeed& o) {
        return std::find(o.rights.begin(), o.rights.end(), "administer") != o.rights.end();
    });
    auto done = ledger.run<bool>([issuers, ops](ledger::Tx& tx) -> ledger::Result<bool> {
        if (auto s = tx.set_issuers(issuers); !s) return pb::unexpected(s.error());
        // Bootstrap (no administrator yet) acts as the config itself; once the ledger holds an
        // administrator from an earlier start, that administrator re-applies the config.
        std::string actor = "paybridged-config";
        for (const auto& o : ops)
            if (tx.may(o.id, ledger::Right::administer)) {
                actor = o.id;
                break;
            }
        for (const auto& o : ops) {
            ledger::Role role;
            role.name = "config:" + o.id;
            for (const auto& r : o.rights)
                if (auto right = ledger::right_from_id(r)) role.rights.push_back(*right);
            if (auto s = tx.put_role(actor, role); !s) return pb::unexpected(s.error());
            ledger::Operator op;
            op.id = o.id;
            op.name = o.name.empty() ? o.id : o.name;
            op.roles = {role.name};
            if (auto s = tx.put_operator(actor, op); !s) return pb::unexpected(s.error());
            if (std::find(o.rights.begin(), o.rights.end(), "administer") != o.rights.end() &&
                actor == "paybridged-config")
                actor = o.id;
        }
        return true;
    });
    if (!done) return pb::unexpected(done.error());
    return {};
}

}  // namespace pb::daemon
