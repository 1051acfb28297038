#include "protocol/zvt/serial_transport.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>

namespace pb::zvt {

using namespace serial;

namespace {

std::size_t index(SerialTimer t) { return static_cast<std::size_t>(t); }

}  // namespace

SerialTransport::SerialTransport(SerialTransportConfig config) : config_(config) {}

std::vector<SerialAction> SerialTransport::step(const SerialEvent& event) {
    std::vector<SerialAction> out;
    std::visit(
        [&](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, SendApdu>) on_send(e, out);
            else if constexpr (std::is_same_v<E, BytesReceived>) on_bytes(e.bytes, out);
            else if constexpr (std::is_same_v<E, TimerExpired>) on_timer(e, out);
            else on_reset(out);
        },
        event);
    return out;
}

void SerialTransport::on_send(const SendApdu& e, std::vector<SerialAction>& out) {
    queue_.push_back(Outgoing{e.id, encode_serial_frame(e.apdu), 0, {}});
    // §3.2: one message at a time; the next goes out once the previous one is ACKed or failed.
    if (!inflight_) start_next(out);
}

void SerialTransport::start_next(std::vector<SerialAction>& out) {
    if (inflight_ || queue_.empty()) return;
    inflight_ = std::move(queue_.front());
    queue_.pop_front();
    inflight_->attempts = 1;
    ++stats_.frames_sent;
    out.push_back(WriteBytes{inflight_->frame});
    start_timer(SerialTimer::t2, out);
}

void SerialTransport::repeat_or_fail(const char* why, std::vector<SerialAction>& out) {
    Outgoing& o = *inflight_;
    if (!o.history.empty()) o.history += ", ";
    o.history += why;
    // §3.5: on NAK, T1 or T2 the transmitter repeats the message up to two times.
    if (o.attempts <= config_.max_repeats) {
        ++o.attempts;
        ++stats_.repeats;
        out.push_back(WriteBytes{o.frame});
        start_timer(SerialTimer::t2, out);
        return;
    }
    if (generation_[index(SerialTimer::t2)] != 0) {
        generation_[index(SerialTimer::t2)] = 0;
        out.push_back(CancelTimer{SerialTimer::t2});
    }
    ++stats_.transmission_errors;
    out.push_back(SendFailed{o.id, SendFailure::transmission_error,
                             std::to_string(o.attempts) +
                                 (o.attempts == 1 ? " attempt: " : " attempts: ") + o.history});
    inflight_.reset();
    start_next(out);
}

void SerialTransport::on_ack(std::vector<SerialAction>& out) {
    ++stats_.acks_received;
    generation_[index(SerialTimer::t2)] = 0;
    out.push_back(CancelTimer{SerialTimer::t2});
    out.push_back(SendDone{inflight_->id});
    inflight_.reset();
    start_next(out);
}

void SerialTransport::start_timer(SerialTimer t, std::vector<SerialAction>& out) {
    const std::uint64_t g = next_generation_++;
    generation_[index(t)] = g;
    out.push_back(StartTimer{t, t == SerialTimer::t1 ? config_.t1_ms : config_.t2_ms, g});
}

void SerialTransport::nak(std::vector<SerialAction>& out) {
    ++stats_.naks_sent;
    out.push_back(WriteBytes{Bytes{NAK}});
}

void SerialTransport::on_bytes(ByteView bytes, std::vector<SerialAction>& out) {
    rx_.insert(rx_.end(), bytes.begin(), bytes.end());
    std::size_t pos = 0;
    while (pos < rx_.size()) {
        SerialDecode d = decode_serial(ByteView{rx_}.subspan(pos), config_.max_apdu);
        if (std::holds_alternative<NeedMore>(d.result)) break;
        pos += std::max<std::size_t>(d.consumed, 1);  // always make progress
        if (std::holds_alternative<AckByte>(d.result)) {
            if (inflight_) on_ack(out);
            else ++stats_.stray_acks;
        } else if (std::holds_alternative<NakByte>(d.result)) {
            if (inflight_) {
                ++stats_.naks_received;
                repeat_or_fail("NAK", out);
            } else {
                ++stats_.stray_acks;
            }
        } else if (auto* f = std::get_if<SerialFrame>(&d.result)) {
            // §3.2: the receiver answers each message immediately, before acting on it.
            ++stats_.frames_received;
            out.push_back(WriteBytes{Bytes{ACK}});
            out.push_back(DeliverApdu{std::move(f->apdu)});
        } else {
            const DecodeError& err = std::get<DecodeError>(d.result);
            switch (err.code) {
                case Error::frame_garbage:
                    stats_.garbage_bytes += std::max<std::size_t>(d.consumed, 1);
                    break;
                case Error::frame_crc_mismatch:
                    ++stats_.crc_errors;
                    nak(out);
                    break;
                default:  // broken escape, too long: a damaged frame, ask for it again
                    ++stats_.bad_frames;
                    nak(out);
                    break;
            }
        }
    }
    rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(pos));

    // §3.4 T1 guards the gap between bytes of a frame: restart it on every arrival while a
    // frame is incomplete, stop it once nothing partial is held.
    if (!rx_.empty()) {
        if (!bytes.empty()) start_timer(SerialTimer::t1, out);
    } else if (generation_[index(SerialTimer::t1)] != 0) {
        generation_[index(SerialTimer::t1)] = 0;
        out.push_back(CancelTimer{SerialTimer::t1});
    }
}

void SerialTransport::on_timer(const TimerExpired& e, std::vector<SerialAction>& out) {
    std::uint64_t& current = generation_[index(e.timer)];
    if (e.generation == 0 || e.generation != current) return;  // stale: cancelled or restarted
    current = 0;
    if (e.timer == SerialTimer::t1) {
        if (rx_.size() >= 2) {  // DLE STX seen: a frame started and stalled
            ++stats_.t1_expiries;
            nak(out);
        } else {
            stats_.garbage_bytes += rx_.size();  // a lone DLE that never became a frame
        }
        rx_.clear();
    } else if (inflight_) {
        ++stats_.t2_expiries;
        repeat_or_fail("T2", out);
    }
}

void SerialTransport::on_reset(std::vector<SerialAction>& out) {
    for (SerialTimer t : {SerialTimer::t1, SerialTimer::t2}) {
        if (generation_[index(t)] != 0) {
            generation_[index(t)] = 0;
            out.push_back(CancelTimer{t});
        }
    }
    rx_.clear();
    if (inflight_) {
        out.push_back(SendFailed{inflight_->id, SendFailure::link_reset, "link reset"});
        inflight_.reset();
    }
    for (Outgoing& o : queue_) out.push_back(SendFailed{o.id, SendFailure::link_reset, "link reset"});
    queue_.clear();
}

}  // namespace pb::zvt
