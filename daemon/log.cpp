#include "daemon/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <mutex>

#include "daemon/systemd_notify.hpp"

namespace pb::daemon::log {
namespace {

Target g_target = Target::stderr_text;

// The record being logged on this thread; the journald sink reads its structured fields.
struct Current {
    std::string_view event;
    const Fields* fields = nullptr;
};
thread_local Current t_current;

spdlog::level::level_enum to_spdlog(LogLevel l) {
    switch (l) {
        case LogLevel::trace: return spdlog::level::trace;
        case LogLevel::debug: return spdlog::level::debug;
        case LogLevel::info: return spdlog::level::info;
        case LogLevel::warn: return spdlog::level::warn;
        case LogLevel::error: return spdlog::level::err;
    }
    return spdlog::level::info;
}

LogLevel from_spdlog(spdlog::level::level_enum l) {
    switch (l) {
        case spdlog::level::trace: return LogLevel::trace;
        case spdlog::level::debug: return LogLevel::debug;
        case spdlog::level::info: return LogLevel::info;
        case spdlog::level::warn: return LogLevel::warn;
        default: return LogLevel::error;
    }
}

int syslog_priority(LogLevel l) {
    switch (l) {
        case LogLevel::trace:
        case LogLevel::debug: return 7;
        case LogLevel::info: return 6;
        case LogLevel::warn: return 4;
        case LogLevel::error: return 3;
    }
    return 6;
}

class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        static const Fields kNone;
        const Fields& f = t_current.fields ? *t_current.fields : kNone;
        std::string_view event = t_current.event.empty() ? std::string_view("PB_LOG") : t_current.event;
        auto fields = journal_fields(from_spdlog(msg.level), event,
                                     std::string_view(msg.payload.data(), msg.payload.size()), f);
        std::vector<iovec> iov;
        iov.reserve(fields.size() + 1);
        for (auto& s : fields) iov.push_back({s.data(), s.size()});
        std::string logger = "SYSLOG_IDENTIFIER=paybridged";
        iov.push_back({logger.data(), logger.size()});
        sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    }
    void flush_() override {}
};

}  // namespace

Target choose_target(const LogConfig& config) {
    return config.journald && SystemdNotifier::stderr_is_journal() ? Target::journald : Target::stderr_text;
}

void init(Target target, LogLevel level) {
    g_target = target;
    std::shared_ptr<spdlog::logger> logger;
    if (target == Target::journald) {
        logger = std::make_shared<spdlog::logger>("paybridged", std::make_shared<JournalSink>());
    } else {
        logger = std::make_shared<spdlog::logger>("paybridged", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
    }
    logger->set_level(to_spdlog(level));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
}

void set_level(LogLevel level) { spdlog::default_logger_raw()->set_level(to_spdlog(level)); }

Target current_target() { return g_target; }

void write(LogLevel level, std::string_view event, std::string_view message, const Fields& fields) {
    auto* logger = spdlog::default_logger_raw();
    if (!logger->should_log(to_spdlog(level))) return;
    if (g_target == Target::journald) {
        t_current = {event, &fields};
        logger->log(to_spdlog(level), "{}", message);
        t_current = {};
    } else {
        logger->log(to_spdlog(level), "{}", text_line(event, message, fields));
    }
}

std::vector<std::string> journal_fields(LogLevel level, std::string_view event, std::string_view message,
                                        const Fields& fields) {
    std::vector<std::string> out;
    out.push_back("PRIORITY=" + std::to_string(syslog_priority(level)));
    out.push_back("MESSAGE=" + std::string(message));
    out.push_back("PB_EVENT=" + std::string(event));
    if (!fields.payment_id.empty()) out.push_back("PB_PAYMENT_ID=" + std::string(fields.payment_id));
    if (!fields.order.empty()) out.push_back("PB_ORDER=" + std::string(fields.order));
    if (!fields.terminal.empty()) out.push_back("PB_TERMINAL=" + std::string(fields.terminal));
    return out;
}

std::string text_line(std::string_view event, std::string_view message, const Fields& fields) {
    std::string out = std::string(event) + ": " + std::string(message);
    if (!fields.payment_id.empty()) out += " payment=" + std::string(fields.payment_id);
    if (!fields.order.empty()) out += " order=" + std::string(fields.order);
    if (!fields.terminal.empty()) out += " terminal=" + std::string(fields.terminal);
    return out;
}

}  // namespace pb::daemon::log
