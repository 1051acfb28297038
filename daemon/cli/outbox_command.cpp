// `paybridge outbox list|retry`: the store-and-forward queue to the upstream services
// (ledger/outbox.hpp, protocol/upstream/README.md §6). The daemon delivers; this shows what
// waits, what was delivered and what is dead, and puts dead letters back.
// Exit status: 0 done; 1 refused or failed (not found, not dead, no ledger); 2 usage.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "daemon/cli/command.hpp"
#include "daemon/cli/ledger_access.hpp"
#include "ledger/outbox.hpp"

namespace pb::cli {
namespace {
namespace json = boost::json;
using namespace pb::ledger;

std::string utc(std::optional<std::int64_t> ms) {
    if (!ms) return "-";
    std::time_t t = static_cast<std::time_t>(*ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json::object message_json(const OutboxMessage& m) {
    json::object o{{"id", m.id},
                   {"idempotency_key", m.idempotency_key},
                   {"service", m.service},
                   {"method", m.method},
                   {"path", m.path},
                   {"subject", m.subject},
                   {"state", std::string(outbox_state_id(m.state))},
                   {"attempts", m.attempts},
                   {"created_at", utc(m.created_utc_ms)},
                   {"next_attempt_at", utc(m.next_attempt_utc_ms)},
                   {"last_attempt_at", utc(m.last_attempt_utc_ms)},
                   {"last_error", m.last_error},
                   {"done_at", utc(m.done_utc_ms)}};
    return o;
}

void print(const std::vector<OutboxMessage>& ms, bool as_json) {
    if (as_json) {
        json::array a;
        for (const auto& m : ms) a.push_back(message_json(m));
        std::cout << json::serialize(json::object{{"messages", std::move(a)}}) << "\n";
        return;
    }
    std::cout << std::left << std::setw(6) << "ID" << std::setw(10) << "STATE" << std::setw(12) << "SERVICE"
              << std::setw(9) << "ATTEMPTS" << std::setw(22) << "NEXT/DONE" << std::setw(34) << "KEY" << "LAST ERROR\n";
    for (const auto& m : ms) {
        std::string when = m.state == OutboxState::pending ? utc(m.next_attempt_utc_ms) : utc(m.done_utc_ms);
        std::cout << std::setw(6) << m.id << std::setw(10) << outbox_state_id(m.state) << std::setw(12) << m.service
                  << std::setw(9) << m.attempts << std::setw(22) << when << std::setw(34) << m.idempotency_key
                  << m.last_error << "\n";
    }
    if (ms.empty()) std::cout << "(no messages)\n";
}

struct ListOptions {
    std::string db, state, service;
    std::size_t limit = 1000;
    bool json = false;
};

struct RetryOptions {
    std::string db, who = "paybridge-cli";
    std::int64_t id = 0;
    bool all_dead = false;
    bool json = false;
};

void register_outbox(CLI::App& app) {
    auto* outbox = app.add_subcommand("outbox", "messages waiting for the upstream services (store and forward)");
    outbox->require_subcommand(1);

    auto lo = std::make_shared<ListOptions>();
    auto* list = outbox->add_subcommand("list", "outbox messages, newest first");
    list->add_option("--ledger,--db", lo->db, "ledger database file")->required();
    list->add_option("--state", lo->state, "pending | delivered | dead")
        ->check(CLI::IsMember({"pending", "delivered", "dead"}));
    list->add_option("--service", lo->service, "commitment | ereceipt | benefit");
    list->add_option("--limit", lo->limit, "most rows (default 1000)");
    list->add_flag("--json", lo->json, "machine-readable output");
    list->callback([lo] {
        auto l = open_ledger(lo->db);
        OutboxFilter f;
        if (!lo->state.empty()) f.state = outbox_state_from_id(lo->state);
        if (!lo->service.empty()) f.service = lo->service;
        f.limit = lo->limit;
        auto ms = l->run<std::vector<OutboxMessage>>([f](Tx& tx) { return outbox_list(tx, f); });
        if (!ms) fail(ms.error());
        print(*ms, lo->json);
    });

    auto ro = std::make_shared<RetryOptions>();
    auto* retry = outbox->add_subcommand("retry", "put dead letters back to pending (same idempotency key)");
    retry->add_option("--ledger,--db", ro->db, "ledger database file")->required();
    auto* id = retry->add_option("id", ro->id, "outbox message id");
    auto* all = retry->add_flag("--all-dead", ro->all_dead, "every dead letter");
    id->excludes(all);
    retry->add_option("--by", ro->who, "who retries (kept in the journal)");
    retry->add_flag("--json", ro->json, "machine-readable output");
    retry->callback([ro, id] {
        if (!ro->all_dead && id->count() == 0) throw Failure{2, "usage: outbox retry ID | --all-dead"};
        auto l = open_ledger(ro->db);
        std::optional<std::int64_t> which;
        if (!ro->all_dead) which = ro->id;
        std::string who = ro->who;
        auto ms = l->run<std::vector<OutboxMessage>>([which, who](Tx& tx) { return outbox_retry(tx, which, who); });
        if (!ms) fail(ms.error());
        if (!ro->json) std::cout << ms->size() << " message(s) back to pending\n";
        print(*ms, ro->json);
    });
}

const Registrar registrar{70, register_outbox};

}  // namespace
}  // namespace pb::cli
