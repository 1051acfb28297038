#include "daemon/upstream.hpp"

#include "adapters/upstream_client.hpp"
#include "daemon/benefit_flow.hpp"
#include "daemon/commitment_flow.hpp"
#include "daemon/log.hpp"
#include "daemon/outbox_sender.hpp"
#include "daemon/receipt_flow.hpp"

namespace pb::daemon {

namespace {

std::int64_t utc_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Expected<std::unique_ptr<adapters::UpstreamClient>, std::string> make_client(boost::asio::any_io_executor ex,
                                                                            const std::string& name,
                                                                            const UpstreamServiceConfig& c) {
    auto url = upstream::parse_url(c.url);
    if (!url) return unexpected("upstream." + name + ".url: " + url.error());
    adapters::UpstreamEndpoint ep;
    ep.name = name;
    ep.url = *url;
    ep.bearer_token = c.token;
    ep.client_cert_file = c.client_cert;
    ep.client_key_file = c.client_key;
    ep.ca_file = c.ca_file;
    ep.verify_peer = c.verify_peer;
    ep.timeout = c.timeout;
    return adapters::UpstreamClient::create(std::move(ex), std::move(ep));
}

}  // namespace

struct Upstream::Impl {
    std::unique_ptr<adapters::UpstreamClient> commitment_client;
    std::unique_ptr<OutboxSender> outbox;
    std::unique_ptr<CommitmentFlow> commitment;
    std::unique_ptr<adapters::UpstreamClient> benefit_client;
    std::unique_ptr<BenefitFlow> benefit;
    std::unique_ptr<adapters::UpstreamClient> ereceipt_client;
    std::unique_ptr<ReceiptFlow> receipts;
};

Upstream::Upstream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Upstream::~Upstream() { stop(); }

Expected<std::unique_ptr<Upstream>, std::string> Upstream::create(boost::asio::any_io_executor executor,
                                                                  ledger::Ledger& ledger, const Config& config,
                                                                  ErpPort& port, Metrics* metrics) {
    auto impl = std::make_unique<Impl>();
    if (config.upstream.commitment) {
        auto c = make_client(executor, "commitment", *config.upstream.commitment);
        if (!c) return unexpected(c.error());
        impl->commitment_client = std::move(*c);
    }
    if (config.upstream.benefit) {
        auto c = make_client(executor, "benefit", config.upstream.benefit->service);
        if (!c) return unexpected(c.error());
        impl->benefit_client = std::move(*c);
    }
    if (config.upstream.ereceipt) {
        auto c = make_client(executor, "ereceipt", config.upstream.ereceipt->service);
        if (!c) return unexpected(c.error());
        impl->ereceipt_client = std::move(*c);
    }
    Impl* raw = impl.get();
    OutboxSenderDeps od;
    od.executor = executor;
    od.ledger = &ledger;
    od.metrics = metrics;
    od.policy.initial_ms = config.upstream.outbox.retry_initial.count();
    od.policy.max_ms = config.upstream.outbox.retry_max.count();
    od.policy.dead_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(config.upstream.outbox.dead_after).count();
    od.client_for = [raw](const std::string& service) -> adapters::UpstreamClient* {
        if (service == "benefit") return raw->benefit_client.get();
        if (service == "ereceipt") return raw->ereceipt_client.get();
        return service == "commitment" ? raw->commitment_client.get() : nullptr;
    };
    od.on_settled = [raw](const ledger::OutboxMessage& m) {
        if (raw->commitment) raw->commitment->on_settled(m);
        if (raw->benefit) raw->benefit->on_settled(m);
    };
    impl->outbox = std::make_unique<OutboxSender>(std::move(od));
    if (impl->commitment_client) {
        CommitmentFlowDeps cd;
        cd.executor = executor;
        cd.ledger = &ledger;
        cd.client = impl->commitment_client.get();
        cd.port = &port;
        cd.outbox_poke = [raw] { raw->outbox->poke(); };
        cd.clock_ms = utc_ms;
        cd.day_starts_at = config.ledger.day_starts_at;
        impl->commitment = std::make_unique<CommitmentFlow>(std::move(cd));
        log::info("PB_UPSTREAM_CONFIGURED", "commitment service " + config.upstream.commitment->url);
    }
    if (impl->benefit_client) {
        const auto& bc = *config.upstream.benefit;
        BenefitFlowDeps bd;
        bd.executor = executor;
        bd.ledger = &ledger;
        bd.client = impl->benefit_client.get();
        bd.port = &port;
        bd.outbox_poke = [raw] { raw->outbox->poke(); };
        bd.clock_ms = utc_ms;
        bd.day_starts_at = config.ledger.day_starts_at;
        bd.provider_id = bc.provider_id;
        bd.windows.valid_ms = std::chrono::milliseconds(bc.valid).count();
        bd.windows.cancel_ms = std::chrono::milliseconds(bc.cancel).count();
        bd.windows.credit_ms = std::chrono::milliseconds(bc.credit).count();
        impl->benefit = std::make_unique<BenefitFlow>(std::move(bd));
        log::info("PB_UPSTREAM_CONFIGURED", "benefit service " + bc.service.url + " provider " + bc.provider_id);
    }
    if (impl->ereceipt_client) {
        ReceiptFlowDeps rd;
        rd.executor = executor;
        rd.ledger = &ledger;
        rd.port = &port;
        rd.outbox_poke = [raw] { raw->outbox->poke(); };
        rd.clock_ms = utc_ms;
        rd.config = *config.upstream.ereceipt;
        impl->receipts = std::make_unique<ReceiptFlow>(std::move(rd));
        log::info("PB_UPSTREAM_CONFIGURED", "e-receipt service " + config.upstream.ereceipt->service.url + " (jurisdiction " +
                                                config.upstream.ereceipt->jurisdiction + ")");
    }
    return std::unique_ptr<Upstream>(new Upstream(std::move(impl)));
}

void Upstream::start() {
    if (impl_->commitment) impl_->commitment->recover();
    if (impl_->benefit) impl_->benefit->recover();
    if (impl_->receipts) impl_->receipts->start();
    impl_->outbox->start();
}

void Upstream::stop() {
    if (impl_ && impl_->receipts) impl_->receipts->stop();
    if (impl_ && impl_->outbox) impl_->outbox->stop();
}

bool Upstream::handle(const std::string& client, const erp::Request& request) {
    if (impl_->benefit && impl_->benefit->handle(client, request)) return true;
    if (impl_->receipts && impl_->receipts->handle(client, request)) return true;
    return impl_->commitment && impl_->commitment->handle(client, request);
}

void Upstream::observe(const erp::EventBody& event) {
    if (impl_->receipts) impl_->receipts->observe(event);
}

}  // namespace pb::daemon
