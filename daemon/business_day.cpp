#include "daemon/business_day.hpp"

#include <cstdlib>
#include <ctime>

namespace pb::daemon {

std::string posix_tz(const std::string& timezone) {
    if (timezone == "UTC") return "UTC0";
    if (timezone.size() == 6 && (timezone[0] == '+' || timezone[0] == '-') && timezone[3] == ':') {
        // POSIX counts the offset west of Greenwich: UTC+01:00 is "<+0100>-01:00".
        const char west = timezone[0] == '+' ? '-' : '+';
        return "<" + timezone.substr(0, 3) + timezone.substr(4, 2) + ">" + west + timezone.substr(1);
    }
    return timezone;  // an IANA name, resolved from /usr/share/zoneinfo
}

void apply_timezone(const std::string& timezone) {
    ::setenv("TZ", posix_tz(timezone).c_str(), 1);
    ::tzset();
}

std::string business_date(std::int64_t utc_ms, std::chrono::minutes day_starts_at) {
    const std::int64_t secs = utc_ms / 1000 - (utc_ms % 1000 < 0 ? 1 : 0);
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm wall{};
    ::localtime_r(&t, &wall);
    // Step back on the wall clock (not in UTC): the day starts at the same local time on the
    // days the clocks change. timegm/gmtime_r only normalise the wall-clock fields here.
    wall.tm_min -= static_cast<int>(day_starts_at.count());
    wall.tm_isdst = 0;
    std::time_t as_if_utc = ::timegm(&wall);
    std::tm day{};
    ::gmtime_r(&as_if_utc, &day);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &day);
    return buf;
}

}  // namespace pb::daemon
