#pragma once
// Day-close (issue 4, design.md §5): the terminal's end-of-day totals per issuer stored next to
// the ledger's own totals for the same batch, differences flagged with the payments involved,
// and a Z-report for people (aligned table) and scripts (JSON).
//
// What it promises:
//  - A batch is a window of the journal: the card movements of one terminal after its previous
//    close up to this close's event. Approvals count +1/+amount, reversals and refunds -1/-amount
//    (net per issuer). Payments recorded after the close fall into the next batch.
//  - A close is one "dayclose.closed" event on the audit chain (subject "dayclose/<terminal>"),
//    holding every figure of the Z-report: it is never changed, verify covers it, and closing
//    the same terminal and business date again (or an earlier date) is refused.
//  - Every issuer line where count or amount differ between terminal and ledger is flagged and
//    names the ledger payments of that issuer in the batch; payments of the terminal left in the
//    interim (aborted/unknown) in the window are listed too: they are the usual suspects.
//  - Benefit-voucher payments of the close's register are listed per provider on their own
//    (BenefitLine), outside the card comparison.

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.hpp"

namespace pb::ledger {

/// One bucket of the terminal's end-of-day report: an issuer id or name, or a ZVT BMP 60
/// bucket ("girocard", "jcb", "eurocard", "amex", "visa", "diners", "others").
struct TerminalBucket {
    std::string issuer_or_bucket;
    std::int64_t count = 0;
    std::int64_t amount_minor = 0;
};

struct DayCloseRequest {
    std::string register_id;
    std::string terminal_id;
    std::string business_date;  // "YYYY-MM-DD"
    std::string operator_id;    // needs Right::close_day once operators are configured
    /// nullopt: the terminal gave no totals (--no-terminal-totals); nothing is compared.
    std::optional<std::vector<TerminalBucket>> terminal_totals;
    std::string batch_reference;  // the terminal's batch / receipt number, if any
    std::string currency = "SEK";
};

struct IssuerLine {
    std::string issuer_id;  // "" in the ledger = card without a resolved issuer: "unassigned"
    std::string issuer_name;
    std::string account;
    std::int64_t ledger_count = 0;
    std::int64_t ledger_amount = 0;
    std::optional<std::int64_t> terminal_count;
    std::optional<std::int64_t> terminal_amount;
    bool differs = false;
    std::vector<std::int64_t> payments;  // ledger payments of this issuer in the batch, if differs
};

/// Benefit vouchers redeemed at the close's register (issue 7), per provider: net of cancels
/// and credits. Booked to their own receivable account (the provider pays the shop), never
/// mixed with the card issuers. Their window is per register (subject "dayclose-benefit/<register>"),
/// so a register with several terminals counts each benefit payment in one close only.
struct BenefitLine {
    std::string provider_id;
    std::int64_t count = 0;
    std::int64_t amount = 0;
    std::vector<std::int64_t> payments;
};

/// Commitment-card payments at the close's register (issue 7), per billing reference (the
/// organisation that is invoiced): net of reversals and refunds, booked to the commitment
/// receivable account, outside the card comparison. Same per-register window as BenefitLine
/// (subject "dayclose-commitment/<register>").
struct CommitmentLine {
    std::string billing_reference;
    std::int64_t count = 0;
    std::int64_t amount = 0;
    std::vector<std::int64_t> payments;
};

struct DayClose {
    std::int64_t seq = 0;  // the close's event
    std::string register_id, terminal_id, business_date, operator_id, batch_reference, currency;
    std::int64_t closed_utc_ms = 0;
    std::int64_t from_seq = 0;  // batch = journal events in (from_seq, to_seq]
    std::int64_t to_seq = 0;
    bool has_terminal_totals = false;
    std::vector<IssuerLine> lines;                // sorted by issuer id
    std::vector<std::int64_t> interim_payments;   // still aborted/unknown, from this window
    std::int64_t ledger_count = 0, ledger_amount = 0;
    std::optional<std::int64_t> terminal_count, terminal_amount;
    bool differs = false;                         // any line differs
    std::vector<BenefitLine> benefit;             // sorted by provider; not in the card totals
    std::vector<CommitmentLine> commitment;       // sorted by billing reference; not in the card totals
};

/// Runs a day-close inside a write. invalid_argument for a bad date/ids, permission_denied,
/// invalid_transition when this terminal's date (or a later one) is already closed.
Result<DayClose> close_day(Tx& tx, const DayCloseRequest& request);

struct DayCloseFilter {
    std::optional<std::string> date_from, date_to;  // inclusive business dates
    std::optional<std::string> terminal_id, register_id;
};
/// Stored closes, ordered by business date, register, terminal.
Result<std::vector<DayClose>> day_closes(Tx& tx, const DayCloseFilter& filter);
Result<DayClose> day_close(Tx& tx, const std::string& terminal_id, const std::string& business_date);

/// The Z-report: an aligned table for people, and the same figures as JSON.
std::string z_report_text(const DayClose& close);
boost::json::value z_report_json(const DayClose& close);
/// Parses a stored close event body (for exports and tools).
std::optional<DayClose> day_close_from_json(std::int64_t seq, std::string_view body);
/// Terminal totals from JSON: [{"issuer": "visa", "count": 3, "amount": "123.45"}, ...] or
/// {"totals": [...], "batch_reference": "..."}; amounts as decimal strings or integer minor
/// units in "amount_minor". Errors name the element.
Result<std::vector<TerminalBucket>> terminal_totals_from_json(std::string_view text, std::string* batch_reference);

}  // namespace pb::ledger
