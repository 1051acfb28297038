#pragma once
// Structured logging with stable event ids (style.md 15; Kea's message ids). Every line has an
// event id such as "PB_PAYMENT_SENT" and optional payment/order/terminal fields. Under systemd
// they become journald fields (PB_EVENT=, PB_PAYMENT_ID=, PB_ORDER=, PB_TERMINAL=, so
// `journalctl PB_ORDER=4711` finds an order); otherwise one text line on stderr.
// Never pass a full card number: only pb::MaskedPan text.

#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.hpp"

namespace pb::daemon::log {

struct Fields {
    std::string_view payment_id{};
    std::string_view order{};
    std::string_view terminal{};
};

enum class Target { stderr_text, journald };

/// journald when asked for and stderr is the journal stream (systemd.exec(5)), else stderr.
Target choose_target(const LogConfig& config);
/// Installs the process-wide logger (spdlog default logger) for `target` at `level`.
void init(Target target, LogLevel level);
void set_level(LogLevel level);
Target current_target();

void write(LogLevel level, std::string_view event, std::string_view message, const Fields& fields = {});
inline void trace(std::string_view e, std::string_view m, const Fields& f = {}) { write(LogLevel::trace, e, m, f); }
inline void debug(std::string_view e, std::string_view m, const Fields& f = {}) { write(LogLevel::debug, e, m, f); }
inline void info(std::string_view e, std::string_view m, const Fields& f = {}) { write(LogLevel::info, e, m, f); }
inline void warn(std::string_view e, std::string_view m, const Fields& f = {}) { write(LogLevel::warn, e, m, f); }
inline void error(std::string_view e, std::string_view m, const Fields& f = {}) { write(LogLevel::error, e, m, f); }

/// The journald fields of one record ("PRIORITY=6", "MESSAGE=...", "PB_EVENT=..."); empty
/// optional fields are left out. Exposed for tests.
std::vector<std::string> journal_fields(LogLevel level, std::string_view event, std::string_view message,
                                        const Fields& fields);
/// The stderr text of one record after the timestamp/level prefix:
/// "PB_PAYMENT_SENT: sent to terminal payment=P17 order=4711 terminal=kassa1".
std::string text_line(std::string_view event, std::string_view message, const Fields& fields);

}  // namespace pb::daemon::log
