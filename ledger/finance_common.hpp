#pragma once
// Ledger-internal helpers shared by the finance features (day-close, cash counts, exports,
// settlement): money text, calendar dates, the journal window scan and issuer name mapping.
// Not part of the ledger's promise.

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.hpp"

namespace pb::ledger::detail {
class Store;
}

namespace pb::ledger::finance {

/// "1234.50" / "-0.05": minor units with `exponent` decimals and '.', never a float.
std::string format_minor(std::int64_t minor, int exponent = 2);
/// Inverse of format_minor for input files: "12", "12.3", "-12.30"; nullopt if not exact.
std::optional<std::int64_t> parse_minor(std::string_view text, int exponent = 2);

/// "YYYY-MM-DD" with a real calendar day (leap years included).
bool valid_date(std::string_view date);
/// Days since 1970-01-01 of a valid date.
std::int64_t days_from_date(std::string_view date);
std::string date_from_days(std::int64_t days);
/// "YYYY-MM-DD" of a UTC millisecond time.
std::string date_of_utc_ms(std::int64_t utc_ms);

/// Maps a name as a terminal, an acquirer or a person writes it to an issuer id: an issuer id
/// of the configuration ("visa"), an issuer name ("Diners Club"), a card brand id, or a ZVT
/// BMP 60 end-of-day bucket ("girocard", "jcb", "eurocard"/"mastercard", "amex", "visa",
/// "diners", "others") through the issuers' brands. Unmapped names come back lower-cased, so
/// they show up as their own line instead of disappearing.
std::string issuer_for_name(const IssuerConfig& config, std::string_view name);

/// The last event seq of the journal (0 if empty).
std::int64_t chain_head(detail::Store& s);
/// Seq of the newest event with this subject (0 if none).
std::int64_t last_seq_of(detail::Store& s, std::string_view subject);

/// One payment movement in a journal window: +1/+amount for an approval, -1/-amount for a
/// reversal or refund; interim = aborted/unknown events of payments still in the interim.
struct Movement {
    std::int64_t seq = 0;
    std::int64_t payment_id = 0;
    std::string kind;  // "payment.approved", ...
    std::int64_t amount_minor = 0;
    std::string currency;
    std::string issuer_id;
    std::string register_id;
    std::string terminal_id;
    std::string state;  // the payment's current state
};
/// Movements of payments with `tender` in (from_seq, to_seq], filtered on terminal or register
/// (an empty filter does not filter). Ordered by seq.
std::vector<Movement> movements(detail::Store& s, std::int64_t from_seq, std::int64_t to_seq, Tender tender,
                                std::string_view terminal_id, std::string_view register_id);

/// Events of a subject prefix ("dayclose/"), oldest first: (seq, kind, body).
struct RawEvent {
    std::int64_t seq = 0;
    std::string kind;
    std::string subject;
    std::int64_t at_utc_ms = 0;
    std::string body;
};
std::vector<RawEvent> events_with_prefix(detail::Store& s, std::string_view prefix);

/// JSON field access that tolerates absent keys.
std::string jstr(const boost::json::object& o, std::string_view key);
std::int64_t jint(const boost::json::object& o, std::string_view key, std::int64_t fallback = 0);

/// Text table with columns aligned; numbers (right-aligned columns) named in `right`.
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right = {});

}  // namespace pb::ledger::finance
