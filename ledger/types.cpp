// Names, parsing and the transition table of the ledger's value types.
#include <array>
#include <utility>

#include "ledger/ledger.hpp"

namespace pb::ledger {
namespace {

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
    for (const auto& [v, n] : table)
        if (v == e) return n;
    return "?";
}

template <class E, std::size_t N>
std::optional<E> parse(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view id) {
    for (const auto& [v, n] : table)
        if (n == id) return v;
    return std::nullopt;
}

constexpr std::array<std::pair<Errc, std::string_view>, 10> kErrc{{
    {Errc::not_found, "not_found"},
    {Errc::invalid_transition, "invalid_transition"},
    {Errc::order_busy, "order_busy"},
    {Errc::terminal_busy, "terminal_busy"},
    {Errc::key_conflict, "key_conflict"},
    {Errc::permission_denied, "permission_denied"},
    {Errc::invalid_argument, "invalid_argument"},
    {Errc::schema_mismatch, "schema_mismatch"},
    {Errc::storage, "storage"},
    {Errc::closed, "closed"},
}};

constexpr std::array<std::pair<PaymentState, std::string_view>, 10> kStates{{
    {PaymentState::requested, "requested"},
    {PaymentState::sent, "sent"},
    {PaymentState::approved, "approved"},
    {PaymentState::declined, "declined"},
    {PaymentState::aborted, "aborted"},
    {PaymentState::unknown, "unknown"},
    {PaymentState::reversed, "reversed"},
    {PaymentState::refunded, "refunded"},
    {PaymentState::rejected, "rejected"},
    {PaymentState::resolved, "resolved"},
}};

constexpr std::array<std::pair<Tender, std::string_view>, 4> kTenders{{
    {Tender::card, "card"},
    {Tender::cash, "cash"},
    {Tender::commitment_card, "commitment_card"},
    {Tender::benefit_voucher, "benefit_voucher"},
}};

constexpr std::array<std::pair<ResolutionKind, std::string_view>, 4> kResolutions{{
    {ResolutionKind::paid_otherwise, "paid_otherwise"},
    {ResolutionKind::retried, "retried"},
    {ResolutionKind::reversed, "reversed"},
    {ResolutionKind::written_off, "written_off"},
}};

constexpr std::array<std::pair<Right, std::string_view>, 7> kRights{{
    {Right::take_card, "take_card"},
    {Right::take_cash, "take_cash"},
    {Right::refund, "refund"},
    {Right::resolve_interim, "resolve_interim"},
    {Right::close_day, "close_day"},
    {Right::export_data, "export"},
    {Right::administer, "administer"},
}};

}  // namespace

std::string_view errc_id(Errc e) { return name_of(kErrc, e); }
std::string_view state_id(PaymentState s) { return name_of(kStates, s); }
std::optional<PaymentState> state_from_id(std::string_view id) { return parse(kStates, id); }
std::string_view tender_id(Tender t) { return name_of(kTenders, t); }
std::optional<Tender> tender_from_id(std::string_view id) { return parse(kTenders, id); }
std::string_view resolution_id(ResolutionKind k) { return name_of(kResolutions, k); }
std::optional<ResolutionKind> resolution_from_id(std::string_view id) { return parse(kResolutions, id); }
std::string_view right_id(Right r) { return name_of(kRights, r); }
std::optional<Right> right_from_id(std::string_view id) { return parse(kRights, id); }

bool transition_allowed(PaymentState from, PaymentState to) {
    using S = PaymentState;
    switch (from) {
        case S::requested: return to == S::sent || to == S::rejected;
        case S::sent: return to == S::approved || to == S::declined || to == S::aborted || to == S::unknown;
        case S::unknown:
            return to == S::approved || to == S::declined || to == S::aborted || to == S::resolved;
        case S::aborted: return to == S::resolved;
        case S::approved: return to == S::reversed || to == S::refunded;
        case S::declined:
        case S::reversed:
        case S::refunded:
        case S::rejected:
        case S::resolved: return false;
    }
    return false;
}

bool is_interim(PaymentState s) { return s == PaymentState::aborted || s == PaymentState::unknown; }

IssuerConfig default_issuers() {
    IssuerConfig c;
    c.issuers = {
        {"visa", "Visa", "1580", {CardBrand::visa, CardBrand::visa_electron, CardBrand::vpay}},
        {"mastercard", "Mastercard", "1580", {CardBrand::mastercard, CardBrand::maestro}},
        {"diners", "Diners Club", "1580", {CardBrand::diners}},
        {"amex", "American Express", "1580", {CardBrand::amex}},
    };
    return c;
}

}  // namespace pb::ledger
