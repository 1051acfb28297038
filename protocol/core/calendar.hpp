#pragma once
// The proleptic Gregorian calendar as day numbers (days since 1970-01-01), the one place for
// Howard Hinnant's public-domain days_from_civil / civil_from_days algorithms
// (http://howardhinnant.github.io/date_algorithms.html). Pure arithmetic, no clock.

#include <cstdint>

namespace pb {

struct CivilDate {
    std::int64_t year = 1970;
    unsigned month = 1;  // 1..12
    unsigned day = 1;    // 1..31
};

/// Days since 1970-01-01 of a date (month 1..12, day 1..31; not validated).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
/// The date of a day number.
CivilDate civil_from_days(std::int64_t days);

}  // namespace pb
