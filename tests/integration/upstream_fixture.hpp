#pragma once
// The fixture of the upstream-flow tests (issue 7): a ZVT simulator for the register's
// terminal, `paybridge-sim upstream` for the services, and paybridged configured with
// `service_toml()` (its [upstream.*] sections) plus a quick outbox; helpers for the
// simulator's control port and the daemon's outbox log.
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/daemon_fixture.hpp"

namespace pb::daemontest {

class UpstreamTest : public DaemonTest {
protected:
    /// The [upstream.*] service sections for the daemon, given the simulator's HTTP URL.
    virtual std::string service_toml(const std::string& url) const = 0;

    void SetUp() override {
        sim = start_sim(dir);
        ASSERT_TRUE(sim->ready);
        upstream = std::make_unique<SimProcess>(dir, std::vector<std::string>{}, "upstream");
        ASSERT_TRUE(upstream->ready);
        t1.tcp_port = sim->tcp_port;
        const std::string url = "http://127.0.0.1:" + std::to_string(upstream->http_port);
        daemon = std::make_unique<DaemonProcess>(
            dir, daemon_config(dir, {t1}) + "\n" + service_toml(url) +
                     "\n[upstream.outbox]\nretry_initial_ms = 100\nretry_max_ms = 400\n");
        ASSERT_FALSE(daemon->router.empty());
        connect();
        ASSERT_TRUE(erp->wait_online("T1"));
    }

    /// One line to the upstream simulator's control port, which must answer OK.
    void control_ok(const std::string& command) {
        auto reply = upstream->control(command);
        ASSERT_FALSE(reply.empty());
        ASSERT_EQ(reply.back().rfind("OK", 0), 0u) << command << " -> " << reply.back();
    }

    /// The simulator's view (control port `card`, `debits`, `vouchers`, ...): the JSON after "OK ".
    json::value sim_state(const std::string& what) {
        auto reply = upstream->control(what);
        if (reply.empty() || reply.back().rfind("OK ", 0) != 0) {
            ADD_FAILURE() << what << " -> " << (reply.empty() ? "nothing" : reply.back());
            return {};
        }
        return json::parse(reply.back().substr(3));
    }

    json::object ok_result(const json::object& reply) {
        EXPECT_EQ(reply.contains("ok") ? reply.at("ok") : json::value(), json::value(true)) << dump(reply);
        if (!reply.contains("result")) return {};
        return reply.at("result").as_object();
    }

    /// The daemon logged the delivery of this outbox key (PB_OUTBOX_DELIVERED).
    bool delivered(const std::string& key, milliseconds deadline = 10s) {
        return daemon->wait_log("key " + key + " after", deadline);
    }

    std::unique_ptr<SimProcess> upstream;
};

}  // namespace pb::daemontest
