#include "protocol/zvt/ecr_session.hpp"

#include <utility>

#include "protocol/zvt/tables.hpp"

namespace pb::zvt {

std::string_view operation_name(Operation op) {
    switch (op) {
        case Operation::registration: return "registration";
        case Operation::authorisation: return "authorisation";
        case Operation::refund: return "refund";
        case Operation::reversal: return "reversal";
        case Operation::pre_authorisation: return "pre_authorisation";
        case Operation::book_total: return "book_total";
        case Operation::end_of_day: return "end_of_day";
        case Operation::repeat_receipt: return "repeat_receipt";
        case Operation::status_enquiry: return "status_enquiry";
        case Operation::diagnosis: return "diagnosis";
        case Operation::log_off: return "log_off";
        case Operation::read_card: return "read_card";
    }
    return "unknown";
}

std::string_view outcome_name(Outcome o) {
    switch (o) {
        case Outcome::approved: return "approved";
        case Outcome::declined: return "declined";
        case Outcome::aborted: return "aborted";
        case Outcome::rejected: return "rejected";
        case Outcome::unknown: return "unknown";
        case Outcome::done: return "done";
    }
    return "unknown";
}

std::uint8_t registration_config_byte(const EcrConfig& cfg) {
    // PA00P015 §2.1 table 1. bit3: ECR wants intermediate status; bit4: payment only from
    // the ECR (nobody types an amount on the PT); bit5: admin only from the ECR.
    std::uint8_t b = 0x08 | 0x10 | 0x20;
    if (cfg.ecr_prints) b |= 0x02 | 0x04 | 0x80;  // bit1/2: ECR prints; bit7: via 06 D1/06 D3
    return b;
}

TransactionData transaction_data(const Message& m) {
    const Fields& f = m.fields;
    TransactionData d;
    d.result_code = f.result_code.value_or(0);
    d.amount = f.amount;
    d.currency = f.currency;
    d.trace = f.trace;
    d.receipt_no = f.receipt_no;
    d.turnover_no = f.turnover_no;
    d.tid = f.tid;
    d.card_type = f.card_type;
    d.card_name = f.card_name;
    d.masked_pan = f.masked_pan;
    d.approval_code = f.aid;
    d.time_hhmmss = f.time_hhmmss;
    d.date_mmdd = f.date_mmdd;
    d.totals = f.totals;
    d.track2 = f.track2;
    return d;
}

bool EcrSession::financial() const {
    switch (req_.op) {
        case Operation::authorisation:
        case Operation::refund:
        case Operation::reversal:
        case Operation::pre_authorisation:
        case Operation::book_total:
        case Operation::end_of_day:
            return true;
        default:
            return false;
    }
}

Message EcrSession::build_command(const OperationRequest& r) const {
    Message m;
    auto with_sync = [&](Message& msg) {
        if (!cfg_.receipt_sync) return;
        // PA00P015 ch. 4: mirror the last receipt number; "the Tag 1F1F will be sent with
        // the length of NULL" when the ECR has none.
        Bytes value;
        if (r.last_receipt) put_bcd(value, *r.last_receipt, 2);
        msg.fields.tlv = std::vector<TlvNode>{tlv_primitive(tag::receipt_sync, std::move(value))};
    };
    switch (r.op) {
        case Operation::registration:
            m.command = Command::registration;
            m.password = cfg_.password;
            m.config_byte = registration_config_byte(cfg_);
            m.fields.currency = cfg_.currency;
            if (cfg_.ecr_prints) {
                // TLV 26 listing 06 D3 lets the PT send whole text blocks, which name their
                // receipt type (1F07 merchant/customer); print lines do not (§2.1, §3.6).
                m.fields.tlv = std::vector<TlvNode>{tlv_constructed(
                    tag::permitted_commands, {tlv_primitive(tag::zvt_command, Bytes{0x06, 0xD3})})};
            }
            break;
        case Operation::authorisation:
            m.command = Command::authorisation;
            m.fields.amount = r.amount;
            m.fields.currency = cfg_.currency;
            with_sync(m);
            break;
        case Operation::refund:
            m.command = Command::refund;
            m.password = cfg_.password;
            m.fields.amount = r.amount;
            m.fields.currency = cfg_.currency;
            with_sync(m);
            break;
        case Operation::reversal:
            m.command = Command::reversal;
            m.password = cfg_.password;
            m.fields.receipt_no = r.receipt_no;
            with_sync(m);
            break;
        case Operation::pre_authorisation:
            m.command = Command::pre_authorisation;
            m.fields.amount = r.amount;
            m.fields.currency = cfg_.currency;
            break;
        case Operation::book_total:
            m.command = Command::book_total;
            m.fields.receipt_no = r.receipt_no;
            m.fields.amount = r.amount;
            m.fields.currency = cfg_.currency;
            if (r.trace) m.fields.trace = r.trace;
            break;
        case Operation::end_of_day:
            m.command = Command::end_of_day;
            m.password = cfg_.password;
            break;
        case Operation::repeat_receipt:
            // §2.20: service byte bit0 = ECR requires the Status-Information of the last
            // transaction, bit1 = no print (recovery must not print a surprise receipt).
            m.command = Command::repeat_receipt;
            m.password = cfg_.password;
            m.fields.service_byte = 0x03;
            break;
        case Operation::status_enquiry:
            m.command = Command::status_enquiry;
            m.password = cfg_.password;
            break;
        case Operation::diagnosis:
            m.command = Command::diagnosis;
            break;
        case Operation::log_off:
            m.command = Command::log_off;
            break;
        case Operation::read_card:
            // §2.21: <timeout s>; no card-type restriction (19) and no dialog control (FC):
            // the PT's defaults ("insert / swipe card") suit a customer card.
            m.command = Command::read_card;
            m.timeout_s = r.card_timeout_s;
            break;
    }
    m.control = static_cast<std::uint16_t>(m.command);
    return m;
}

void EcrSession::send_abort(std::vector<EcrAction>& out) {
    abort_pending_ = false;
    abort_sent_ = true;
    Message a;
    a.command = Command::abort;
    a.control = static_cast<std::uint16_t>(Command::abort);
    send(a, out);
}

void EcrSession::send(const Message& m, std::vector<EcrAction>& out) {
    out.emplace_back(SendApdu{encode_message(m)});
}

std::vector<EcrAction> EcrSession::step(const EcrEvent& event) {
    std::vector<EcrAction> out;
    std::visit(
        [&](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, StartRequested>) {
                on_start(e.request, out);
            } else if constexpr (std::is_same_v<E, AbortRequested>) {
                // The ECR is not master while the PT works, but terminals accept 06 B0 while
                // waiting for the card ([CC-PRAEZ] 3.2.21); an answer 84 xx just means "too late".
                // §2.23: Read Card explicitly allows 06 B0 while the PT waits for the card.
                if ((!financial() && req_.op != Operation::read_card) || committed_ || abort_sent_) return;
                if (phase_ == Phase::awaiting_ack) {
                    abort_pending_ = true;  // sent once the PT has accepted the command
                } else if (phase_ == Phase::pt_master) {
                    send_abort(out);
                }
            } else if constexpr (std::is_same_v<E, ApduReceived>) {
                on_apdu(e.apdu, out);
            } else if constexpr (std::is_same_v<E, TimerExpired>) {
                if (e.timer == Timer::t3 && phase_ == Phase::awaiting_ack) {
                    // PA00P016 §5.2.5: no answer within T3 -> the connection is judged aborted.
                    out.emplace_back(CloseLink{"no answer to the command within T3"});
                    on_lost("no answer to the command within T3", out);
                } else if (e.timer == Timer::t4 && phase_ == Phase::pt_master) {
                    out.emplace_back(CloseLink{"terminal silent for longer than T4"});
                    on_lost("terminal silent for longer than T4", out);
                }
            } else if constexpr (std::is_same_v<E, LinkLost>) {
                if (phase_ != Phase::idle) on_lost("link to the terminal lost", out);
            } else if constexpr (std::is_same_v<E, ResultPersisted>) {
                if (phase_ == Phase::awaiting_persist) {
                    // The moment of truth (§2.2.9): from here on the payment stands.
                    send(make_ack(), out);
                    committed_ = financial() && req_.op != Operation::end_of_day;
                    phase_ = Phase::pt_master;
                    out.emplace_back(ArmTimer{Timer::t4, cfg_.t4_ms});
                }
            }
        },
        event);
    return out;
}

void EcrSession::on_start(const OperationRequest& r, std::vector<EcrAction>& out) {
    if (phase_ != Phase::idle) {
        out.emplace_back(Finished{r.op, Outcome::rejected, 0, std::nullopt, std::nullopt, std::nullopt,
                                  "terminal busy with " + std::string(operation_name(req_.op))});
        return;
    }
    req_ = r;
    committed_ = false;
    abort_sent_ = false;
    abort_pending_ = false;
    last_result_.reset();
    terminal_status_.reset();
    tid_.reset();
    phase_ = Phase::awaiting_ack;
    send(build_command(r), out);
    out.emplace_back(ArmTimer{Timer::t3, cfg_.t3_ms});
}

void EcrSession::on_apdu(const Apdu& a, std::vector<EcrAction>& out) {
    if (phase_ == Phase::idle) return;  // late frame after a finished operation: nothing to do
    const Command sent = build_command(req_).command;
    auto decoded = decode_message(a, DecodeContext{sent, req_.op == Operation::read_card});
    if (!decoded) {
        if (phase_ == Phase::awaiting_ack) {
            out.emplace_back(CloseLink{"undecodable answer: " + decoded.error().to_string()});
            on_lost("undecodable answer: " + decoded.error().to_string(), out);
        } else {
            // §3.1.1: a negative answer tells the PT that goods were not issued, so an
            // approval we cannot read is reversed by the PT instead of standing unseen.
            send(make_nack(rc::protocol_error), out);
        }
        return;
    }
    const Message& m = *decoded;
    if (phase_ == Phase::awaiting_ack) {
        if (m.command == Command::positive_ack ||
            (m.command == Command::negative_ack && m.status.value_or(0) == 0)) {
            out.emplace_back(CancelTimer{Timer::t3});
            if (req_.op == Operation::log_off) {
                finish(Outcome::done, "logged off", out);
                return;
            }
            phase_ = Phase::pt_master;
            out.emplace_back(ArmTimer{Timer::t4, cfg_.t4_ms});
            if (abort_pending_) send_abort(out);
            return;
        }
        if (m.command == Command::negative_ack) {
            out.emplace_back(CancelTimer{Timer::t3});
            const std::uint8_t code = m.status.value_or(0);
            phase_ = Phase::idle;
            out.emplace_back(Finished{req_.op, Outcome::rejected, code, std::nullopt, std::nullopt,
                                      std::nullopt,
                                      "terminal refused the command: " + std::string(result_code_text(code))});
            return;
        }
        // Some terminals start talking as master without a separate 80 00 first.
        out.emplace_back(CancelTimer{Timer::t3});
        phase_ = Phase::pt_master;
        out.emplace_back(ArmTimer{Timer::t4, cfg_.t4_ms});
    }
    if (phase_ == Phase::awaiting_persist) {
        // The PT must wait for our answer; anything else now is a protocol violation.
        // Keep waiting for the ledger; the frame is dropped.
        return;
    }
    on_pt_message(m, out);
}

void EcrSession::on_pt_message(const Message& m, std::vector<EcrAction>& out) {
    switch (m.command) {
        case Command::intermediate_status: {
            send(make_ack(), out);
            const std::uint8_t code = m.status.value_or(0xFF);
            std::uint32_t t4 = cfg_.t4_ms;
            if (m.timeout_min && *m.timeout_min > 0) t4 = *m.timeout_min * 60000u;  // §3.7
            out.emplace_back(ArmTimer{Timer::t4, t4});
            out.emplace_back(Progress{code, std::string(intermediate_status_text(code))});
            return;
        }
        case Command::status_information: {
            out.emplace_back(ArmTimer{Timer::t4, cfg_.t4_ms});
            TransactionData d = transaction_data(m);
            last_result_ = d;
            if (d.tid) tid_ = d.tid;
            const bool needs_commit = d.result_code == rc::success && financial();
            if (needs_commit) {
                phase_ = Phase::awaiting_persist;
                out.emplace_back(PersistResult{req_.op, d});
                return;  // the ack waits for ResultPersisted
            }
            send(make_ack(), out);
            return;
        }
        case Command::print_line: {
            send(make_ack(), out);
            const std::uint8_t attr = m.print_attribute.value_or(0);
            // §3.5: attribute 1xxx xxxx (other than 80) marks the last line of a receipt.
            const bool last = (attr & 0x80) != 0 && attr != 0x80 && attr != 0xFF;
            out.emplace_back(ReceiptText{{m.print_text.value_or("")}, 0, last});
            return;
        }
        case Command::print_text_block: {
            send(make_ack(), out);
            ReceiptText rt;
            rt.last = true;
            if (m.fields.tlv) {
                for (const TlvNode& n : *m.fields.tlv) {
                    if (n.tag == tag::print_texts)
                        for (const TlvNode& c : n.children)
                            if (c.tag == tag::text_line) rt.lines.push_back(c.text());
                    if (n.tag == tag::receipt_type && !n.value.empty()) rt.receipt_type = n.value[0];
                }
            }
            out.emplace_back(std::move(rt));
            return;
        }
        case Command::completion: {
            send(make_ack(), out);
            out.emplace_back(CancelTimer{Timer::t4});
            if (m.status) terminal_status_ = m.status;
            if (m.fields.tid) tid_ = m.fields.tid;
            if (!financial()) {
                finish(Outcome::done, "completed", out);
            } else if (committed_) {
                finish(Outcome::approved, "approved", out);
            } else if (last_result_ && last_result_->result_code != rc::success) {
                finish(Outcome::declined, std::string(result_code_text(last_result_->result_code)), out);
            } else if (req_.op == Operation::end_of_day && last_result_) {
                finish(Outcome::approved, "end of day completed", out);
            } else {
                finish(Outcome::unknown, "completion without a status information", out);
            }
            return;
        }
        case Command::abort_from_pt: {
            send(make_ack(), out);
            out.emplace_back(CancelTimer{Timer::t4});
            const std::uint8_t code = m.status.value_or(0);
            if (committed_) {
                // §2.2.9: once the Status-Information is acknowledged the payment stands.
                finish(Outcome::approved, "approved (terminal aborted after the commit point)", out);
            } else if (last_result_ && last_result_->result_code != rc::success) {
                finish(Outcome::declined, std::string(result_code_text(last_result_->result_code)), out);
            } else {
                finish(financial() ? Outcome::aborted : Outcome::rejected,
                       std::string(result_code_text(code)), out, code);
            }
            return;
        }
        case Command::positive_ack:
        case Command::negative_ack:
            return;  // the PT's answer to our 06 B0
        case Command::set_date_time_in_ecr:
            send(make_ack(), out);
            return;
        default:
            send(make_nack(rc::function_not_possible), out);  // §13: unknown -> 84 83
            return;
    }
}

void EcrSession::on_lost(std::string reason, std::vector<EcrAction>& out) {
    out.emplace_back(CancelTimer{Timer::t3});
    out.emplace_back(CancelTimer{Timer::t4});
    if (!financial()) {
        finish(Outcome::rejected, std::move(reason), out);
    } else if (committed_) {
        // §2.2.9: once the PT has our acknowledgement the payment stands -- but a lost link
        // cannot tell us whether the acknowledgement arrived before it broke (a PT that closed
        // first auto-reverses, §2.2.8). Only the terminal knows: recovery asks it (Repeat
        // Receipt) rather than assuming either way.
        finish(Outcome::unknown, reason + " after the acknowledgement; the terminal must be asked", out);
    } else {
        finish(Outcome::unknown, std::move(reason), out);
    }
}

void EcrSession::finish(Outcome o, std::string reason, std::vector<EcrAction>& out,
                        std::optional<std::uint8_t> code) {
    phase_ = Phase::idle;
    Finished f{req_.op, o, 0, last_result_, terminal_status_, tid_, std::move(reason)};
    if (code)
        f.result_code = *code;
    else if (last_result_)
        f.result_code = last_result_->result_code;
    out.emplace_back(std::move(f));
}

}  // namespace pb::zvt
