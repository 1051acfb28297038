#include "simulators/zvt/engine.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "protocol/core/money.hpp"
#include "protocol/zvt/tables.hpp"

namespace pb::sim {

namespace zvt = pb::zvt;
using zvt::Command;
using zvt::Message;
using std::chrono::milliseconds;

namespace {

// Intermediate status codes, [ZVT-CMD] §3.7 table 17.
constexpr std::uint8_t kInsertCard = 0x0A;
constexpr std::uint8_t kWatchPinPad = 0x01;
constexpr std::uint8_t kPleaseWait = 0x0E;
constexpr std::uint8_t kIncorrectPin = 0x15;
constexpr std::uint8_t kAutoReversal = 0x05;
// Config byte bits, [ZVT-CMD] §2.1 table 1.
constexpr std::uint8_t kEcrPrintsPayment = 0x02;
constexpr std::uint8_t kEcrPrintsAdmin = 0x04;
constexpr std::uint8_t kEcrWantsIntermediate = 0x08;
constexpr std::uint8_t kPrintViaEcr = 0x80;
// Payment type in 04 0F (BMP 19, [ZVT-CMD] §3.1.1): online with PIN.
constexpr std::uint8_t kPaymentOnlinePin = 0x70;
// Print attribute with bit 8 set: last line of a receipt ([ZVT-CMD] §3.5).
constexpr std::uint8_t kLastLine = 0x81;
constexpr int kMaxStatusRepeats = 10;

// Commands the simulator accepts in the TLV 26 permitted-commands list ([ZVT-CMD] §2.1).
constexpr std::uint16_t kSupported[] = {0x0401, 0x040F, 0x04FF, 0x060F, 0x061E, 0x06D1, 0x06D3};

Message ack() { return zvt::make_ack(); }

Message command(Command c) {
    Message m;
    m.command = c;
    m.control = static_cast<std::uint16_t>(c);
    return m;
}

Message abort_message(std::uint8_t result_code) {
    Message m = command(Command::abort_from_pt);
    m.status = result_code;
    return m;
}

bool positive(const Message& m) {
    return m.command == Command::positive_ack ||
           (m.command == Command::negative_ack && m.status.value_or(0xFF) == 0x00);
}

const zvt::TlvNode* find_tlv(const Message& m, std::uint32_t tag) {
    if (!m.fields.tlv) return nullptr;
    for (const auto& n : *m.fields.tlv) {
        if (n.tag == tag) return &n;
    }
    return nullptr;
}

Bytes bcd2(std::uint16_t v) {
    Bytes b;
    put_bcd(b, v, 2);
    return b;
}

std::optional<std::uint16_t> bcd2_value(const Bytes& b) {
    if (b.size() != 2) return std::nullopt;
    std::uint16_t v = 0;
    for (auto byte : b) {
        int hi = byte >> 4, lo = byte & 0x0F;
        if (hi > 9 || lo > 9) return std::nullopt;
        v = static_cast<std::uint16_t>(v * 100 + hi * 10 + lo);
    }
    return v;
}

std::string approval_code(std::uint32_t trace) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06u", static_cast<unsigned>((trace * 7919u + 104729u) % 1000000u));
    return buf;
}

std::string money_text(std::int64_t minor, std::uint16_t currency) {
    auto c = currency_from_numeric(currency);
    if (!c) return std::to_string(minor);
    return format_money(Money{minor, *c});
}

bool is_financial(Command c) {
    switch (c) {
        case Command::authorisation:
        case Command::refund:
        case Command::pre_authorisation:
        case Command::reversal:
        case Command::book_total:
        case Command::pre_auth_reversal:
        case Command::end_of_day:
            return true;
        default:
            return false;
    }
}

}  // namespace

std::string_view tx_kind_name(TxKind k) {
    switch (k) {
        case TxKind::payment: return "payment";
        case TxKind::refund: return "refund";
        case TxKind::reversal: return "reversal";
        case TxKind::pre_auth: return "pre_auth";
        case TxKind::book_total: return "book_total";
        case TxKind::pre_auth_reversal: return "pre_auth_reversal";
    }
    return "?";
}

std::optional<TxKind> tx_kind_from_name(std::string_view name) {
    for (auto k : {TxKind::payment, TxKind::refund, TxKind::reversal, TxKind::pre_auth,
                   TxKind::book_total, TxKind::pre_auth_reversal}) {
        if (tx_kind_name(k) == name) return k;
    }
    return std::nullopt;
}

zvt::EodTotals::Bucket& eod_bucket(zvt::EodTotals& t, CardBrand brand) {
    switch (brand) {
        case CardBrand::girocard: return t.girocard;
        case CardBrand::jcb: return t.jcb;
        case CardBrand::mastercard: return t.mastercard;
        case CardBrand::amex: return t.amex;
        case CardBrand::visa:
        case CardBrand::visa_electron:
        case CardBrand::vpay: return t.visa;
        case CardBrand::diners: return t.diners;
        default: return t.others;
    }
}

Engine::Engine(Scenario scenario, PersistentState state)
    : scenario_(std::move(scenario)), state_(std::move(state)) {}

Actions Engine::power_up() {
    Actions out;
    if (state_.last_status_committed || !state_.last_status_info) return out;
    auto& f = state_.last_status_info->fields;
    out.push_back(Journal{{{"event", "auto_reversed"},
                           {"amount", f.amount.value_or(0)},
                           {"receipt", f.receipt_no.value_or(0)},
                           {"trace", f.trace.value_or(0)},
                           {"reason", "restarted before the ECR acknowledged the Status-Information"}}});
    f.result_code = zvt::rc::abort_timeout_or_key;
    f.additional_text = "AUTO-REVERSAL";
    state_.last_status_committed = true;
    out.push_back(SaveState{});
    return out;
}

std::uint8_t Engine::terminal_status() const {
    // [ZVT-CMD] ch. 11.
    if (card_left_in_reader_ || scenario_.faults.card_inserted) return zvt::rc::card_inserted;
    if (scenario_.faults.eod_required) return zvt::rc::eod_batch_open;
    return 0x00;
}

std::string_view Engine::phase_name() const {
    if (!busy()) return "idle";
    if (awaiting_ack_) return "awaiting_ack";
    if (cancellable_) return "waiting_for_card";
    return "processing";
}

bool Engine::ecr_prints_payment() const {
    return (config_byte_ & (kEcrPrintsPayment | kPrintViaEcr)) == (kEcrPrintsPayment | kPrintViaEcr);
}
bool Engine::ecr_prints_admin() const {
    return (config_byte_ & (kEcrPrintsAdmin | kPrintViaEcr)) == (kEcrPrintsAdmin | kPrintViaEcr);
}
bool Engine::wants_intermediate() const { return (config_byte_ & kEcrWantsIntermediate) != 0; }
bool Engine::uses_text_block() const {
    return std::find(permitted_.begin(), permitted_.end(), std::uint16_t{0x06D3}) != permitted_.end();
}

std::uint32_t Engine::next_trace() {
    state_.trace = state_.trace >= 999999 ? 1 : state_.trace + 1;
    return state_.trace;
}
std::uint16_t Engine::next_receipt() {
    state_.receipt = static_cast<std::uint16_t>(state_.receipt >= 9999 ? 1 : state_.receipt + 1);
    return state_.receipt;
}

void Engine::queue_send(Message m, Role role) {
    steps_.push_back(Step::send_of(std::move(m), role));
}

void Engine::queue_intermediate(std::uint8_t status) {
    if (!wants_intermediate()) return;
    Message m = command(Command::intermediate_status);
    m.status = status;
    queue_send(std::move(m));
}

void Engine::journal_fault(std::string_view name, Actions& out, std::string_view detail) {
    boost::json::object r{{"event", "fault"}, {"fault", name}};
    if (!detail.empty()) r["detail"] = detail;
    if (tx_) {
        r["command"] = zvt::command_name(tx_->command);
        if (tx_->record.receipt != 0) r["receipt"] = tx_->record.receipt;
    }
    out.push_back(Log{"fault fired: " + std::string(name)});
    out.push_back(Journal{std::move(r)});
}

boost::json::object Engine::tx_json(std::string_view event) const {
    boost::json::object r{{"event", event}};
    if (!tx_) return r;
    const auto& t = *tx_;
    r["kind"] = t.eod ? std::string_view("end_of_day") : tx_kind_name(t.kind);
    r["command"] = zvt::command_name(t.command);
    r["amount"] = t.amount;
    auto c = currency_from_numeric(scenario_.currency);
    r["currency"] = c ? std::string(c->code()) : std::to_string(scenario_.currency);
    if (t.record.receipt != 0) r["receipt"] = t.record.receipt;
    if (t.record.trace != 0) r["trace"] = t.record.trace;
    if (t.record.turnover != 0) r["turnover"] = t.record.turnover;
    if (t.ref_receipt) r["ref_receipt"] = *t.ref_receipt;
    if (!t.eod) {
        r["brand"] = brand_id(t.card.brand);
        r["pan"] = t.card.masked_pan;
    }
    if (t.status_info.fields.result_code) r["result_code"] = *t.status_info.fields.result_code;
    if (t.sync_mode) r["receipt_sync"] = true;
    return r;
}

// ---------------------------------------------------------------------------------------
// Entry points

Actions Engine::on_message(const Message& m, const Now& now) {
    Actions out;
    if (m.command == Command::positive_ack || m.command == Command::negative_ack) {
        if (awaiting_ack_) {
            on_ack(m, now, out);
        } else {
            out.push_back(Log{"ignored an ECR answer while not waiting for one"});
        }
        run(now, out);
        return out;
    }
    if (m.command == Command::abort) {
        // [ZVT-CMD] §2.23: accepted while the PT still waits for the card; once the host is
        // involved the abort is not possible (84 83, [CC-PRAEZ] 3.2.21).
        if (busy()) {
            if (cancellable_) {
                out.push_back(Send{ack()});
                awaiting_ack_ = false;
                abort_tx(zvt::rc::abort_timeout_or_key, "aborted by the ECR (06 B0)", true, out);
                run(now, out);
            } else {
                out.push_back(Send{zvt::make_nack(zvt::rc::function_not_possible)});
            }
            return out;
        }
        out.push_back(Send{ack()});
        if (card_left_in_reader_ || scenario_.faults.card_inserted) {
            card_left_in_reader_ = false;
            scenario_.faults.card_inserted = false;
            out.push_back(Journal{{{"event", "card_removed"}}});
        }
        return out;
    }
    if (busy()) {
        // The PT is master: no second command until Completion/Abort ([ZVT-TP] §5.1).
        out.push_back(Log{"command while busy refused: " + std::string(zvt::command_name(m.command))});
        out.push_back(Send{zvt::make_nack(zvt::rc::function_not_possible)});
        return out;
    }
    if (FaultSet::take(scenario_.faults.negative)) {
        char code[3];
        std::snprintf(code, sizeof code, "%02X", scenario_.faults.negative_code);
        journal_fault("negative", out, std::string("84 ") + code + " to " +
                                           std::string(zvt::command_name(m.command)));
        out.push_back(Send{zvt::make_nack(scenario_.faults.negative_code)});
        return out;
    }
    auto started = start(m, now);
    out.insert(out.end(), std::make_move_iterator(started.begin()),
               std::make_move_iterator(started.end()));
    run(now, out);
    return out;
}

Actions Engine::on_decode_error(bool unknown_bmp, const Now&) {
    Actions out;
    out.push_back(Log{unknown_bmp ? "unknown BMP from the ECR" : "undecodable message from the ECR"});
    out.push_back(Send{zvt::make_nack(unknown_bmp ? zvt::rc::function_not_possible
                                                  : zvt::rc::protocol_error)});
    return out;
}

Actions Engine::on_link_lost(const Now& now) {
    Actions out;
    if (!busy() && !tx_) return out;
    awaiting_ack_ = false;
    deadline_.reset();
    if (tx_ && tx_->result_sent && !tx_->committed && (tx_->approved || tx_->eod)) {
        reverse_uncommitted("link lost before the ECR acknowledged", false, now, out);
    } else if (tx_ && !tx_->result_sent && tx_->financial) {
        abort_tx(zvt::rc::abort_timeout_or_key, "link lost", false, out);
    } else {
        finish(out);
    }
    steps_.clear();
    return out;
}

Actions Engine::on_timer(const Now& now) {
    Actions out;
    if (!deadline_ || now.mono < *deadline_) return out;
    deadline_.reset();
    if (awaiting_ack_) {
        awaiting_ack_ = false;
        ack_timeout(now, out);
    }
    run(now, out);
    return out;
}

Actions Engine::set_fault(std::string_view spec) {
    Actions out;
    if (auto r = scenario_.faults.set(spec); !r) {
        out.push_back(Log{r.error()});
        return out;
    }
    out.push_back(Journal{{{"event", "fault_set"}, {"fault", spec}}});
    return out;
}

Actions Engine::set_read_card(std::string_view track2) {
    Actions out;
    if (auto r = check_track2(track2); !r) {
        out.push_back(Log{r.error()});
        return out;
    }
    scenario_.read_card_track2 = std::string(track2);
    // The journal shows that a card was set, never its number.
    out.push_back(Journal{{{"event", "read_card_set"}, {"present", !track2.empty()}}});
    return out;
}

Actions Engine::clear_fault(std::string_view name) {
    Actions out;
    if (auto r = scenario_.faults.clear(name); !r) {
        out.push_back(Log{r.error()});
        return out;
    }
    out.push_back(Journal{{{"event", "fault_cleared"}, {"fault", name.empty() ? "all" : name}}});
    return out;
}

// ---------------------------------------------------------------------------------------
// Starting commands

Actions Engine::start(const Message& m, const Now&) {
    Actions out;
    if (is_financial(m.command)) {
        if (scenario_.faults.busy) {
            journal_fault("busy", out, std::string(zvt::command_name(m.command)) + " refused");
            out.push_back(Send{zvt::make_nack(zvt::rc::please_wait)});
            return out;
        }
        if (FaultSet::take(scenario_.faults.drop_after_auth)) {
            journal_fault("drop_after_auth", out, zvt::command_name(m.command));
            out.push_back(CloseLink{"fault drop_after_auth"});
            return out;
        }
        if (scenario_.faults.crash_at == FaultPoint::after_auth) {
            journal_fault("crash", out, "after_auth");
            out.push_back(Crash{FaultPoint::after_auth});
            return out;
        }
        resync(m, out);
        std::uint8_t status = terminal_status();
        bool eod_allowed = m.command == Command::end_of_day && status == zvt::rc::eod_batch_open;
        if (status != 0 && !eod_allowed) {
            out.push_back(Send{ack()});
            Tx t;
            t.command = m.command;
            tx_ = t;
            refuse(status, zvt::terminal_status_text(status), out);
            return out;
        }
    }
    switch (m.command) {
        case Command::registration: {
            registered_ = true;
            config_byte_ = m.config_byte.value_or(0x86);
            permitted_.clear();
            std::vector<zvt::TlvNode> echo;
            if (const auto* list = find_tlv(m, zvt::tag::permitted_commands)) {
                for (const auto& c : list->children) {
                    if (c.tag != zvt::tag::zvt_command || c.value.size() != 2) continue;
                    auto code = static_cast<std::uint16_t>((c.value[0] << 8) | c.value[1]);
                    permitted_.push_back(code);
                    if (std::find(std::begin(kSupported), std::end(kSupported), code) != std::end(kSupported)) {
                        echo.push_back(c);
                    }
                }
            }
            out.push_back(Send{ack()});
            Message done = command(Command::completion);
            done.fields.payment_type = 0x00;  // status byte: nothing required (§2.1 table 3)
            done.fields.tid = scenario_.tid;
            done.fields.currency = scenario_.currency;
            if (!echo.empty()) {
                done.fields.tlv = std::vector<zvt::TlvNode>{
                    zvt::tlv_constructed(zvt::tag::permitted_commands, std::move(echo))};
            }
            queue_send(std::move(done), Role::completion);
            steps_.push_back(Step::of(Step::Kind::finish));
            char cfg[3];
            std::snprintf(cfg, sizeof cfg, "%02X", config_byte_);
            out.push_back(Journal{{{"event", "registered"}, {"config_byte", cfg},
                                   {"text_block", uses_text_block()}}});
            return out;
        }
        case Command::log_off:
            registered_ = false;
            config_byte_ = 0x86;
            permitted_.clear();
            out.push_back(Send{ack()});
            out.push_back(Journal{{{"event", "logged_off"}}});
            return out;
        case Command::status_enquiry: {
            out.push_back(Send{ack()});
            Message done = command(Command::completion);
            done.sw_version = scenario_.sw_version;
            done.status = terminal_status();
            queue_send(std::move(done), Role::completion);
            steps_.push_back(Step::of(Step::Kind::finish));
            return out;
        }
        case Command::diagnosis: {
            out.push_back(Send{ack()});
            queue_intermediate(kPleaseWait);
            Message done = command(Command::completion);
            done.fields.tid = scenario_.tid;
            queue_send(std::move(done), Role::completion);
            steps_.push_back(Step::of(Step::Kind::finish));
            out.push_back(Journal{{{"event", "diagnosis"}}});
            return out;
        }
        case Command::repeat_receipt:
            start_repeat_receipt(m, out);
            return out;
        case Command::authorisation:
            start_payment_like(m, TxKind::payment, out);
            return out;
        case Command::refund:
            start_payment_like(m, TxKind::refund, out);
            return out;
        case Command::pre_authorisation:
            start_payment_like(m, TxKind::pre_auth, out);
            return out;
        case Command::reversal:
            start_reference(m, TxKind::reversal, out);
            return out;
        case Command::book_total:
            start_reference(m, TxKind::book_total, out);
            return out;
        case Command::pre_auth_reversal:
            start_reference(m, TxKind::pre_auth_reversal, out);
            return out;
        case Command::end_of_day:
            start_end_of_day(out);
            return out;
        case Command::read_card:
            start_read_card(m, out);
            return out;
        default:
            // [ZVT-CMD] ch. 10: 83 "function not possible".
            out.push_back(Log{"unsupported command " + std::string(zvt::command_name(m.command))});
            out.push_back(Send{zvt::make_nack(zvt::rc::function_not_possible)});
            return out;
    }
}

void Engine::refuse(std::uint8_t result_code, std::string_view why, Actions& out) {
    boost::json::object r = tx_json("refused");
    r["result_code"] = result_code;
    r["reason"] = why;
    out.push_back(Journal{std::move(r)});
    steps_.clear();
    queue_send(abort_message(result_code), Role::abort);
    steps_.push_back(Step::of(Step::Kind::finish));
}

void Engine::start_payment_like(const Message& m, TxKind kind, Actions& out) {
    Tx t;
    t.command = m.command;
    t.kind = kind;
    if (!m.fields.amount) {
        // Amount entry on the PT is not simulated: a missing amount is a protocol error.
        out.push_back(Send{zvt::make_nack(zvt::rc::protocol_error)});
        return;
    }
    t.amount = *m.fields.amount;
    t.currency_given = m.fields.currency.has_value();
    t.rule = scenario_.rule_for(t.amount);
    t.card = t.rule.card.value_or(scenario_.card);
    t.sync_mode = find_tlv(m, zvt::tag::receipt_sync) != nullptr;
    tx_ = t;
    out.push_back(Send{ack()});
    if (m.fields.currency && *m.fields.currency != scenario_.currency) {
        refuse(0x6F, "wrong currency", out);  // [ZVT-CMD] ch. 10: 6F wrong currency
        return;
    }
    cancellable_ = true;
    queue_intermediate(kInsertCard);
    if (t.rule.outcome == Outcome::no_card) {
        steps_.push_back(Step::wait_of(scenario_.card_timeout));
        steps_.push_back(Step::abort_of(zvt::rc::abort_timeout_or_key));
        return;
    }
    if (scenario_.card_delay.count() > 0) {
        steps_.push_back(Step::wait_of(scenario_.card_delay));
    }
    queue_intermediate(kWatchPinPad);
    if (t.rule.outcome == Outcome::pin_wrong_once) {
        queue_intermediate(kIncorrectPin);
        queue_intermediate(kWatchPinPad);
    }
    queue_intermediate(kPleaseWait);
    steps_.push_back(Step::of(Step::Kind::host));
}

void Engine::start_read_card(const Message& m, Actions& out) {
    // [ZVT-CMD] §2.21: the PT asks for a card, sends its data in a Status-Information and
    // ends with Completion; without a card, Abort 6C once the command's timeout has passed.
    // 06 B0 is allowed meanwhile (§2.23).
    out.push_back(Send{ack()});
    cancellable_ = true;
    queue_intermediate(kInsertCard);
    const auto timeout = m.timeout_s.value_or(0) > 0 ? std::chrono::milliseconds(*m.timeout_s * 1000)
                                                      : scenario_.card_timeout;
    if (scenario_.read_card_track2.empty()) {
        out.push_back(Journal{{{"event", "read_card"}, {"card", false}}});
        steps_.push_back(Step::wait_of(std::min(timeout, scenario_.card_timeout)));
        steps_.push_back(Step::abort_of(zvt::rc::abort_timeout_or_key));
        return;
    }
    if (scenario_.card_delay.count() > 0) steps_.push_back(Step::wait_of(scenario_.card_delay));
    Message si = command(Command::status_information);
    si.fields.result_code = 0x00;
    si.fields.track2 = scenario_.read_card_track2;
    queue_send(std::move(si));
    queue_send(command(Command::completion), Role::completion);
    steps_.push_back(Step::of(Step::Kind::finish));
    out.push_back(Journal{{{"event", "read_card"}, {"card", true}}});
}

void Engine::start_reference(const Message& m, TxKind kind, Actions& out) {
    Tx t;
    t.command = m.command;
    t.kind = kind;
    t.sync_mode = find_tlv(m, zvt::tag::receipt_sync) != nullptr;
    t.rule.outcome = Outcome::approve;
    t.ref_receipt = m.fields.receipt_no;
    t.currency_given = m.fields.currency.has_value();
    if (!t.ref_receipt) {
        out.push_back(Send{zvt::make_nack(zvt::rc::protocol_error)});
        return;
    }
    tx_ = t;
    out.push_back(Send{ack()});
    // Latest record with that receipt number: after an implicit reversal the number is reused.
    TxRecord* target = nullptr;
    for (auto it = state_.batch.rbegin(); it != state_.batch.rend(); ++it) {
        if (it->receipt != *t.ref_receipt) continue;
        bool fits = kind == TxKind::reversal
                        ? (it->kind == TxKind::payment || it->kind == TxKind::book_total)
                        : it->kind == TxKind::pre_auth;
        if (!fits) continue;
        if (!target || (target->reversed && !it->reversed)) target = &*it;
        if (!it->reversed) break;
    }
    bool pre = kind != TxKind::reversal;
    if (!target) {
        refuse(pre ? 0xB8 : zvt::rc::reversal_not_possible, "unknown receipt number", out);
        return;
    }
    if (target->reversed) {
        refuse(zvt::rc::already_reversed, "already reversed or booked", out);
        return;
    }
    tx_->amount = target->amount;
    if (kind == TxKind::book_total && m.fields.amount) {
        if (*m.fields.amount > target->amount) {
            refuse(0xB7, "amount above the pre-authorised amount", out);  // B7 pre-auth incorrect
            return;
        }
        tx_->amount = *m.fields.amount;
    }
    tx_->card.brand = target->brand;
    tx_->card.masked_pan = target->masked_pan;
    tx_->card.name = std::string(brand_name(target->brand));
    queue_intermediate(kPleaseWait);
    steps_.push_back(Step::of(Step::Kind::host));
}

void Engine::start_end_of_day(Actions& out) {
    Tx t;
    t.command = Command::end_of_day;
    t.eod = true;
    t.financial = true;
    t.approved = true;
    tx_ = t;
    out.push_back(Send{ack()});
    queue_intermediate(kPleaseWait);
    steps_.push_back(Step::of(Step::Kind::host));
}

void Engine::start_repeat_receipt(const Message& m, Actions& out) {
    out.push_back(Send{ack()});
    if (!state_.last_status_info) {
        out.push_back(Journal{{{"event", "repeat_receipt"}, {"result", "no transaction"}}});
        queue_send(abort_message(zvt::rc::function_not_possible), Role::abort);
        steps_.push_back(Step::of(Step::Kind::finish));
        return;
    }
    // [ZVT-CMD] §2.20: service byte bit 0 = ECR wants the Status-Information, bit 1 = no print.
    std::uint8_t service = m.fields.service_byte.value_or(0);
    bool want_status = (service & 0x01) != 0 || !ecr_prints_payment();
    bool print = (service & 0x02) == 0 && ecr_prints_payment();
    const Message& si = *state_.last_status_info;
    if (want_status) queue_send(si);
    if (print) queue_receipts(receipt_lines(si, "RECEIPT COPY", "COPY"), false);
    queue_send(command(Command::completion), Role::completion);
    steps_.push_back(Step::of(Step::Kind::finish));
    out.push_back(Journal{{{"event", "repeat_receipt"},
                           {"receipt", si.fields.receipt_no.value_or(0)},
                           {"result_code", si.fields.result_code.value_or(0)}}});
}

void Engine::resync(const Message& m, Actions& out) {
    // [ZVT-CMD] ch. 4: the ECR mirrors the receipt number of the last 04 0F it received.
    auto pending = std::find_if(state_.batch.begin(), state_.batch.end(),
                                [](const TxRecord& r) { return r.sync_pending; });
    if (pending == state_.batch.end()) return;
    const auto* node = find_tlv(m, zvt::tag::receipt_sync);
    auto mirrored = node ? bcd2_value(node->value) : std::nullopt;
    if (node && node->value.empty()) return;  // ECR without a receipt number: keep waiting
    pending->sync_pending = false;
    std::uint16_t previous = static_cast<std::uint16_t>(pending->receipt <= 1 ? 9999 : pending->receipt - 1);
    if (mirrored && *mirrored == previous) {
        // "PT will reuse the receipt number of the last transaction, an implicit reversal".
        pending->reversed = true;
        for (auto& r : state_.batch) {
            if (pending->kind == TxKind::reversal && r.receipt == pending->ref_receipt && r.reversed &&
                (r.kind == TxKind::payment || r.kind == TxKind::book_total)) {
                r.reversed = false;
            }
        }
        if (state_.last_status_info && state_.last_status_info->fields.receipt_no == pending->receipt) {
            state_.last_status_info->fields.result_code = zvt::rc::abort_timeout_or_key;
            state_.last_status_info->fields.additional_text = "IMPLICIT REVERSAL";
        }
        state_.receipt = previous;
        out.push_back(Journal{{{"event", "implicit_reversed"}, {"kind", tx_kind_name(pending->kind)},
                               {"amount", pending->amount}, {"receipt", pending->receipt},
                               {"trace", pending->trace}, {"brand", brand_id(pending->brand)}}});
    } else {
        out.push_back(Journal{{{"event", "synchronised"}, {"receipt", pending->receipt}}});
    }
    out.push_back(SaveState{});
}

// ---------------------------------------------------------------------------------------
// Running the plan

void Engine::run(const Now& now, Actions& out) {
    while (!awaiting_ack_ && !deadline_ && !steps_.empty()) {
        Step step = std::move(steps_.front());
        steps_.pop_front();
        switch (step.kind) {
            case Step::Kind::send: {
                bool is_result = step.role == Role::status_info;
                awaiting_message_ = step.message;
                out.push_back(Send{std::move(step.message)});
                awaiting_ack_ = true;
                awaiting_role_ = step.role;
                deadline_ = now.mono + scenario_.ack_timeout;
                if (is_result && tx_) {
                    tx_->result_sent = true;
                    if (tx_->approved || tx_->eod) {
                        if (FaultSet::take(scenario_.faults.drop_after_status_info)) {
                            journal_fault("drop_after_status_info", out);
                            out.push_back(CloseLink{"fault drop_after_status_info"});
                            auto lost = on_link_lost(now);
                            out.insert(out.end(), lost.begin(), lost.end());
                            return;
                        }
                        if (scenario_.faults.crash_at == FaultPoint::after_status_info) {
                            journal_fault("crash", out, "after_status_info");
                            out.push_back(Crash{FaultPoint::after_status_info});
                            return;
                        }
                    }
                }
                break;
            }
            case Step::Kind::wait:
                deadline_ = now.mono + step.duration;
                break;
            case Step::Kind::abort:
                abort_tx(step.result_code, "no card presented before the card timeout", true, out);
                break;
            case Step::Kind::host:
                host_decision(now, out);
                break;
            case Step::Kind::commit:
                commit(now, out);
                break;
            case Step::Kind::finish:
                finish(out);
                break;
        }
    }
}

void Engine::host_decision(const Now& now, Actions& out) {
    cancellable_ = false;
    auto& t = *tx_;
    Message si = command(Command::status_information);
    auto& f = si.fields;
    f.time_hhmmss = static_cast<std::uint32_t>(now.wall.hour * 10000 + now.wall.minute * 100 + now.wall.second);
    f.date_mmdd = static_cast<std::uint16_t>(now.wall.month * 100 + now.wall.day);
    f.tid = scenario_.tid;
    t.record.trace = next_trace();
    f.trace = t.record.trace;
    if (t.eod) {
        // [ZVT-CMD] §3.1.3: total, trace, date, time and BMP 60 individual totals.
        zvt::EodTotals totals;
        std::int64_t sum = 0;
        bool any = false;
        for (const auto& r : state_.batch) {
            if (!any || r.receipt < totals.receipt_from) totals.receipt_from = r.receipt;
            if (!any || r.receipt > totals.receipt_to) totals.receipt_to = r.receipt;
            any = true;
            if (r.reversed || (r.kind != TxKind::payment && r.kind != TxKind::book_total)) continue;
            auto& b = eod_bucket(totals, r.brand);
            b.count = static_cast<std::uint8_t>(std::min(255, b.count + 1));
            b.amount += r.amount;
            sum += r.amount;
        }
        f.result_code = zvt::rc::success;
        f.amount = sum;
        f.totals = totals;
        t.amount = sum;
        t.status_info = si;
        steps_.push_front(Step::send_of(std::move(si), Role::status_info));
        out.push_back(SaveState{});
        return;
    }
    t.approved = t.rule.outcome != Outcome::decline;
    t.record.kind = t.kind;
    t.record.amount = t.amount;
    t.record.receipt = next_receipt();
    t.record.brand = t.card.brand;
    t.record.masked_pan = t.card.masked_pan;
    t.record.ref_receipt = t.ref_receipt;
    f.result_code = t.approved ? zvt::rc::success : t.rule.result_code;
    f.amount = t.amount;
    if (t.currency_given) f.currency = scenario_.currency;  // echoed only if sent ([ZVT-CMD] §1.4)
    f.receipt_no = t.record.receipt;
    if (t.approved) {
        t.record.turnover = state_.turnover >= 999999 ? 1 : state_.turnover + 1;
        f.turnover_no = t.record.turnover;
        f.aid = approval_code(t.record.trace);
    }
    f.payment_type = kPaymentOnlinePin;
    f.card_type = zvt::card_type_for_brand(t.card.brand);
    f.card_name = t.card.name;
    f.masked_pan = t.card.masked_pan;
    if (t.sync_mode) {
        f.tlv = std::vector<zvt::TlvNode>{zvt::tlv_primitive(zvt::tag::receipt_sync, bcd2(t.record.receipt))};
    }
    t.status_info = si;
    state_.last_status_info = si;
    state_.last_status_committed = !t.approved;
    if (!t.approved) out.push_back(Journal{tx_json("declined")});
    out.push_back(SaveState{});
    steps_.push_front(Step::send_of(std::move(si), Role::status_info));
}

void Engine::on_ack(const Message& m, const Now& now, Actions& out) {
    awaiting_ack_ = false;
    deadline_.reset();
    Role role = awaiting_role_;
    if (!tx_) return;
    auto& t = *tx_;
    if (role == Role::status_info) {
        std::uint8_t code = m.status.value_or(0);
        if (!positive(m) && code == zvt::rc::please_wait && t.repeats_left < kMaxStatusRepeats) {
            // [ZVT-CMD] §2.2.6: 84 9C = repeat the Status-Information after a while.
            ++t.repeats_left;
            steps_.push_front(Step::send_of(t.status_info, Role::status_info));
            steps_.push_front(Step::wait_of(scenario_.status_repeat));
            return;
        }
        if (!positive(m)) {
            if (t.approved && !t.eod) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "84 %02X", code);
                reverse_uncommitted(std::string("negative answer ") + buf + " to Status-Information",
                                    true, now, out);
            } else if (!t.approved) {
                queue_send(abort_message(t.status_info.fields.result_code.value_or(0)), Role::abort);
                steps_.push_back(Step::of(Step::Kind::finish));
            } else {
                abort_tx(zvt::rc::function_not_possible, "end-of-day not acknowledged", true, out);
            }
            return;
        }
        if (t.eod) {
            if (ecr_prints_admin()) queue_receipts(eod_lines(t.status_info), true);
            steps_.push_back(Step::of(Step::Kind::commit));
            return;
        }
        if (ecr_prints_payment()) {
            std::string title = std::string(tx_kind_name(t.kind));
            std::transform(title.begin(), title.end(), title.begin(),
                           [](char c) { return c == '_' ? ' ' : static_cast<char>(std::toupper(c)); });
            queue_receipts(receipt_lines(t.status_info, title, "MERCHANT COPY"), false);
            queue_receipts(receipt_lines(t.status_info, title, "CUSTOMER COPY"), false);
        }
        if (t.approved) {
            steps_.push_back(Step::of(Step::Kind::commit));
        } else {
            queue_send(abort_message(t.status_info.fields.result_code.value_or(0)), Role::abort);
            steps_.push_back(Step::of(Step::Kind::finish));
        }
        return;
    }
    if (role == Role::print && !positive(m) && t.result_sent && !t.committed && t.approved && !t.eod) {
        // [ZVT-CMD] §2.2.8: with ECR printing, the answers to all print messages are part of
        // the definitive acknowledgement.
        reverse_uncommitted("negative answer to a print message", true, now, out);
    }
}

void Engine::ack_timeout(const Now& now, Actions& out) {
    out.push_back(Log{"no answer from the ECR within " + std::to_string(scenario_.ack_timeout.count()) + " ms"});
    if (!tx_) {
        steps_.clear();
        return;
    }
    auto& t = *tx_;
    if (t.result_sent && !t.committed && t.approved && !t.eod &&
        (awaiting_role_ == Role::status_info || awaiting_role_ == Role::print)) {
        reverse_uncommitted("no answer to Status-Information", true, now, out);
        return;
    }
    if (!t.result_sent && t.financial) {
        abort_tx(zvt::rc::abort_timeout_or_key, "no answer from the ECR", false, out);
        return;
    }
    steps_.clear();
    finish(out);
}

void Engine::reverse_uncommitted(std::string_view why, bool link_up, const Now& now, Actions& out) {
    auto& t = *tx_;
    steps_.clear();
    if (t.eod) {
        // The batch stays open; nothing was charged.
        out.push_back(Journal{{{"event", "end_of_day_failed"}, {"reason", why}}});
        finish(out);
        return;
    }
    bool negative_answer = why.rfind("negative", 0) == 0;
    if (t.sync_mode && !negative_answer) {
        // [ZVT-CMD] ch. 4: with receipt-number sync the PT does not reverse now; the next
        // command's TLV 1F1F decides (implicit reversal if the ECR did not get the result).
        t.record.sync_pending = true;
        boost::json::object r = tx_json(t.kind == TxKind::refund ? "refunded" : "approved");
        r["acknowledged"] = false;
        r["reason"] = why;
        t.committed = true;
        state_.last_status_committed = true;
        state_.turnover = t.record.turnover;
        state_.batch.push_back(t.record);
        out.push_back(Journal{std::move(r)});
        out.push_back(SaveState{});
        finish(out);
        return;
    }
    // [ZVT-CMD] §2.2.8: no definitive acknowledgement -> auto-reversal.
    boost::json::object r = tx_json("auto_reversed");
    r["reason"] = why;
    out.push_back(Journal{std::move(r)});
    if (state_.last_status_info && state_.last_status_info->fields.receipt_no == t.record.receipt) {
        state_.last_status_info->fields.result_code = zvt::rc::abort_timeout_or_key;
        state_.last_status_info->fields.additional_text = "AUTO-REVERSAL";
    }
    state_.last_status_committed = true;
    out.push_back(SaveState{});
    (void)now;
    if (link_up) {
        Message m = command(Command::intermediate_status);
        m.status = kAutoReversal;
        queue_send(std::move(m));
        queue_send(abort_message(zvt::rc::abort_timeout_or_key), Role::abort);
        steps_.push_back(Step::of(Step::Kind::finish));
    } else {
        finish(out);
    }
}

void Engine::abort_tx(std::uint8_t result_code, std::string_view why, bool link_up, Actions& out) {
    if (tx_ && tx_->financial && !tx_->result_sent) {
        boost::json::object r = tx_json("aborted");
        r["result_code"] = result_code;
        r["reason"] = why;
        out.push_back(Journal{std::move(r)});
    }
    steps_.clear();
    cancellable_ = false;
    deadline_.reset();
    if (link_up) {
        queue_send(abort_message(result_code), Role::abort);
        steps_.push_back(Step::of(Step::Kind::finish));
    } else {
        finish(out);
    }
}

void Engine::commit(const Now&, Actions& out) {
    auto& t = *tx_;
    t.committed = true;
    state_.last_status_committed = true;
    if (t.eod) {
        zvt::EodTotals totals = t.status_info.fields.totals.value_or(zvt::EodTotals{});
        boost::json::object r{{"event", "end_of_day"}, {"trace", t.record.trace}, {"total", t.amount},
                              {"receipt_from", totals.receipt_from}, {"receipt_to", totals.receipt_to}};
        boost::json::object buckets;
        for (const auto& [name, b] : totals.named())
            buckets[name] = boost::json::object{{"count", b.count}, {"amount", b.amount}};
        r["buckets"] = std::move(buckets);
        r["transactions"] = state_.batch.size();
        state_.batch.clear();
        scenario_.faults.eod_required = false;
        out.push_back(Journal{std::move(r)});
    } else {
        state_.turnover = t.record.turnover;
        state_.batch.push_back(t.record);
        const char* event = "approved";
        switch (t.kind) {
            case TxKind::payment: event = "approved"; break;
            case TxKind::refund: event = "refunded"; break;
            case TxKind::pre_auth: event = "preauthorised"; break;
            case TxKind::book_total: event = "booked"; break;
            case TxKind::reversal: event = "reversed"; break;
            case TxKind::pre_auth_reversal: event = "preauth_reversed"; break;
        }
        if (t.ref_receipt) {
            for (auto it = state_.batch.rbegin() + 1; it != state_.batch.rend(); ++it) {
                if (it->receipt == *t.ref_receipt && !it->reversed &&
                    (t.kind == TxKind::reversal ? (it->kind == TxKind::payment || it->kind == TxKind::book_total)
                                                : it->kind == TxKind::pre_auth)) {
                    it->reversed = true;
                    break;
                }
            }
        }
        if (t.rule.outcome == Outcome::card_left_inserted) card_left_in_reader_ = true;
        out.push_back(Journal{tx_json(event)});
    }
    out.push_back(SaveState{});
    if (FaultSet::take(scenario_.faults.drop_before_completion)) {
        journal_fault("drop_before_completion", out);
        out.push_back(CloseLink{"fault drop_before_completion"});
        steps_.clear();
        finish(out);
        return;
    }
    if (scenario_.faults.crash_at == FaultPoint::before_completion) {
        journal_fault("crash", out, "before_completion");
        out.push_back(Crash{FaultPoint::before_completion});
        steps_.clear();
        return;
    }
    if (FaultSet::take(scenario_.faults.no_completion)) {
        journal_fault("no_completion", out);
        steps_.clear();
        finish(out);
        return;
    }
    Message done = command(Command::completion);
    queue_send(std::move(done), Role::completion);
    steps_.push_back(Step::of(Step::Kind::finish));
}

void Engine::finish(Actions&) {
    tx_.reset();
    steps_.clear();
    cancellable_ = false;
    awaiting_ack_ = false;
    deadline_.reset();
}

// ---------------------------------------------------------------------------------------
// Receipts

void Engine::queue_receipts(const std::vector<std::string>& lines, bool admin) {
    if (lines.empty()) return;
    if (uses_text_block()) {
        // [ZVT-CMD] §3.6: 06 D3 with TLV 25 {07 line..., 09 attribute of the last line} and
        // 1F07 receipt type.
        std::vector<zvt::TlvNode> text;
        for (const auto& l : lines) text.push_back(zvt::tlv_text(zvt::tag::text_line, l));
        text.push_back(zvt::tlv_primitive(zvt::tag::attribute, Bytes{kLastLine}));
        bool customer = !admin && lines.back().find("CUSTOMER") != std::string::npos;
        std::uint8_t type = admin ? 0x03 : (customer ? 0x02 : 0x01);
        Message m = command(Command::print_text_block);
        m.fields.tlv = std::vector<zvt::TlvNode>{
            zvt::tlv_constructed(zvt::tag::print_texts, std::move(text)),
            zvt::tlv_primitive(zvt::tag::receipt_type, Bytes{type})};
        queue_send(std::move(m), Role::print);
        return;
    }
    // [ZVT-CMD] §3.5: one 06 D1 per line; attribute 1xxx xxxx marks the receipt's last line.
    for (std::size_t i = 0; i < lines.size(); ++i) {
        Message m = command(Command::print_line);
        m.print_attribute = i + 1 == lines.size() ? kLastLine : 0x00;
        m.print_text = lines[i];
        queue_send(std::move(m), Role::print);
    }
}

std::vector<std::string> Engine::receipt_lines(const Message& si, std::string_view title,
                                               std::string_view copy) const {
    const auto& f = si.fields;
    char buf[64];
    std::vector<std::string> lines;
    lines.emplace_back("PAYBRIDGE SIMULATOR");
    std::snprintf(buf, sizeof buf, "Terminal-ID %08u", static_cast<unsigned>(f.tid.value_or(scenario_.tid)));
    lines.emplace_back(buf);
    unsigned date = f.date_mmdd.value_or(0), time = f.time_hhmmss.value_or(0);
    std::snprintf(buf, sizeof buf, "Date %02u.%02u.  Time %02u:%02u:%02u", date % 100, date / 100,
                  time / 10000, (time / 100) % 100, time % 100);
    lines.emplace_back(buf);
    lines.emplace_back(title);
    lines.push_back(f.card_name.value_or(""));
    lines.push_back("Card " + f.masked_pan.value_or(""));
    lines.push_back("Amount " + money_text(f.amount.value_or(0), scenario_.currency));
    std::snprintf(buf, sizeof buf, "Trace %06u  Receipt %04u", static_cast<unsigned>(f.trace.value_or(0)),
                  static_cast<unsigned>(f.receipt_no.value_or(0)));
    lines.emplace_back(buf);
    if (f.aid) lines.push_back("Approval " + *f.aid);
    std::uint8_t rc = f.result_code.value_or(0);
    if (rc == 0) {
        lines.emplace_back("APPROVED");
    } else {
        std::snprintf(buf, sizeof buf, "DECLINED (%02X)", rc);
        lines.emplace_back(buf);
    }
    lines.emplace_back(copy);
    return lines;
}

std::vector<std::string> Engine::eod_lines(const Message& si) const {
    std::vector<std::string> lines{"PAYBRIDGE SIMULATOR", "END OF DAY"};
    if (!si.fields.totals) return lines;
    const auto& t = *si.fields.totals;
    char buf[64];
    std::snprintf(buf, sizeof buf, "Receipts %04u-%04u", t.receipt_from, t.receipt_to);
    lines.emplace_back(buf);
    auto bucket = [&](const char* name, const zvt::EodTotals::Bucket& b) {
        if (b.count == 0) return;
        lines.push_back(std::string(name) + " " + std::to_string(b.count) + "x " +
                        money_text(b.amount, scenario_.currency));
    };
    bucket("girocard", t.girocard);
    bucket("JCB", t.jcb);
    bucket("Mastercard", t.mastercard);
    bucket("Amex", t.amex);
    bucket("Visa", t.visa);
    bucket("Diners", t.diners);
    bucket("Other", t.others);
    lines.push_back("TOTAL " + money_text(si.fields.amount.value_or(0), scenario_.currency));
    return lines;
}

}  // namespace pb::sim
