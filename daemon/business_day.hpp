#pragma once
// The business day (design.md §4, [ledger] in the config): payments, day-close and the
// dashboard's takings belong to the shop's local calendar date, in the configured time zone,
// and a day may start after midnight (day_starts_at = "04:00": a payment at 02:30 belongs to
// the day before).

#include <chrono>
#include <cstdint>
#include <string>

namespace pb::daemon {

/// Makes `timezone` ("UTC", "+01:00" / "-05:30", or an IANA name such as "Europe/Stockholm",
/// as validated by the config) the process's local time zone (TZ + tzset). Call on the
/// daemon's thread at start and on reload, before any local time is computed.
void apply_timezone(const std::string& timezone);

/// The POSIX TZ value for a config time zone: "UTC0", "<+0100>-01:00", "Europe/Stockholm".
std::string posix_tz(const std::string& timezone);

/// "YYYY-MM-DD": the local calendar date of `utc_ms - day_starts_at`.
std::string business_date(std::int64_t utc_ms, std::chrono::minutes day_starts_at);

}  // namespace pb::daemon
