#include "daemon/upstream_voids.hpp"

#include <string>

#include "daemon/erp_views.hpp"
#include "daemon/log.hpp"

namespace pb::daemon {

ledger::OutboxNew void_message_of(std::string_view service, std::string_view path, std::string key, std::string body,
                                  ledger::PaymentId payment) {
    ledger::OutboxNew m;
    m.idempotency_key = std::move(key);
    m.service = std::string(service);
    m.path = std::string(path);
    m.body = std::move(body);
    m.subject = "payment/" + std::to_string(payment.value);
    return m;
}

std::vector<ledger::Payment> unanswered_payments(const ledger::Ledger& ledger, ledger::Tender tender) {
    std::vector<ledger::Payment> left;
    if (auto pending = ledger.reader()->pending_recovery(""))
        for (const auto& p : *pending)
            if (p.request.tender == tender &&
                (p.state == ledger::PaymentState::sent || p.state == ledger::PaymentState::unknown))
                left.push_back(p);
    return left;
}

ledger::Result<std::size_t> queue_voids(
    ledger::Tx& tx, const std::vector<ledger::Payment>& left, std::string_view why,
    const std::function<ledger::Result<ledger::OutboxNew>(ledger::Tx&, const ledger::Payment&)>& void_of) {
    for (const auto& p : left) {
        auto msg = void_of(tx, p);
        if (!msg) return pb::unexpected(msg.error());
        if (p.state == ledger::PaymentState::sent)
            if (auto u = tx.mark_unknown(p.id, why); !u) return pb::unexpected(u.error());
        if (auto e = ledger::outbox_enqueue(tx, *msg); !e) return pb::unexpected(e.error());
    }
    return left.size();
}

std::optional<ledger::PaymentId> delivered_void(const ledger::OutboxMessage& m, std::string_view service,
                                                std::string_view path, const char* dead_log_id) {
    if (m.service != service || m.path != path) return std::nullopt;
    if (m.state != ledger::OutboxState::delivered) {
        log::error(dead_log_id, "void " + m.idempotency_key + " is a dead letter; its payment stays in the interim account");
        return std::nullopt;
    }
    return parse_payment_ref(m.subject, "payment/");
}

}  // namespace pb::daemon
