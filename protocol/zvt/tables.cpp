#include "protocol/zvt/tables.hpp"

#include <array>
#include <string>
#include <utility>

namespace pb::zvt {
namespace {

using Entry = std::pair<std::uint8_t, std::string_view>;

template <std::size_t N>
std::string_view find(const std::array<Entry, N>& table, std::uint8_t code, std::string_view fallback) {
    for (const auto& [c, text] : table)
        if (c == code) return text;
    return fallback;
}

// PA00P015 ch. 10 "Error-messages" (BMP 27, 06 1E, 84 xx). 01..63 are host codes.
constexpr std::array<Entry, 81> kResultCodes{{
    {0x00, "no error"},
    {0x64, "card not readable (LRC/parity error)"},
    {0x65, "card data not present (neither track data nor chip found)"},
    {0x66, "processing error (also for problems with the card reader mechanism)"},
    {0x67, "function not permitted for ec and Maestro cards"},
    {0x68, "function not permitted for credit and tank cards"},
    {0x6A, "turnover file full"},
    {0x6B, "function deactivated (PT not registered)"},
    {0x6C, "abort via timeout or abort key"},
    {0x6E, "card in blocked list"},
    {0x6F, "wrong currency"},
    {0x71, "credit not sufficient (chip card)"},
    {0x72, "chip error"},
    {0x73, "card data incorrect (e.g. country key check, checksum error)"},
    {0x74, "DUKPT engine exhausted"},
    {0x75, "text not authentic"},
    {0x76, "PAN not in white list"},
    {0x77, "end-of-day batch not possible"},
    {0x78, "card expired"},
    {0x79, "card not yet valid"},
    {0x7A, "card unknown"},
    {0x7B, "fallback to magnetic stripe for girocard not possible"},
    {0x7C, "fallback to magnetic stripe not possible (non-girocard cards)"},
    {0x7D, "communication error (communication module does not answer or is not present)"},
    {0x7E, "fallback to magnetic stripe not possible, debit advice possible (girocard only)"},
    {0x83, "function not possible"},
    {0x85, "key missing"},
    {0x89, "PIN pad defective"},
    {0x9A, "ZVT protocol error (e.g. parsing error, mandatory message element missing)"},
    {0x9B, "error from dial-up / communication fault"},
    {0x9C, "please wait"},
    {0xA0, "receiver not ready"},
    {0xA1, "remote station does not respond"},
    {0xA3, "no connection"},
    {0xA4, "submission of Geldkarte not possible"},
    {0xA5, "function not allowed due to PCI-DSS/P2PE rules"},
    {0xB1, "memory full"},
    {0xB2, "merchant journal full"},
    {0xB4, "already reversed"},
    {0xB5, "reversal not possible"},
    {0xB7, "pre-authorisation incorrect (amount too high) or amount wrong"},
    {0xB8, "error pre-authorisation"},
    {0xBF, "voltage supply too low (external power supply)"},
    {0xC0, "card locking mechanism defective"},
    {0xC1, "merchant card locked"},
    {0xC2, "diagnosis required"},
    {0xC3, "maximum amount exceeded"},
    {0xC4, "card profile invalid, new card profiles must be loaded"},
    {0xC5, "payment method not supported"},
    {0xC6, "currency not applicable"},
    {0xC8, "amount too small"},
    {0xC9, "max. transaction amount too small"},
    {0xCB, "function only allowed in EURO"},
    {0xCC, "printer not ready"},
    {0xCD, "cashback not possible"},
    {0xD2, "function not permitted for service cards / bank customer cards"},
    {0xDC, "card inserted"},
    {0xDD, "error during card eject (motor insertion reader)"},
    {0xDE, "error during card insertion (motor insertion reader)"},
    {0xE0, "remote maintenance activated"},
    {0xE2, "card reader does not answer / card reader defective"},
    {0xE3, "shutter closed"},
    {0xE4, "terminal activation required"},
    {0xE7, "min. one goods group not found"},
    {0xE8, "no goods groups table loaded"},
    {0xE9, "restriction code not permitted"},
    {0xEA, "card code not permitted (e.g. card not activated via Diagnosis)"},
    {0xEB, "function not executable (PIN algorithm unknown)"},
    {0xEC, "PIN processing not possible"},
    {0xED, "PIN pad defective"},
    {0xF0, "open end-of-day batch present"},
    {0xF1, "ec-cash/Maestro offline error"},
    {0xF5, "OPT error"},
    {0xF6, "OPT data not available (OPT personalisation required)"},
    {0xFA, "error transmitting offline transactions (clearing error)"},
    {0xFB, "turnover data set defective"},
    {0xFC, "necessary device not present or defective"},
    {0xFD, "baud rate not supported"},
    {0xFE, "register unknown"},
    {0xFF, "system error (see TLV tags 1F16 and 1F17)"},
    {0x9D, "partial issue of goods"},
}};

// PA00P015 §3.7 table 17 (intermediate status, 04 FF). 41..5D repeat 01..1D with
// "please remove card!" appended (see intermediate_status_text).
constexpr std::array<Entry, 45> kIntermediate{{
    {0x00, "PT is waiting for amount confirmation"},
    {0x01, "please watch PIN pad"},
    {0x02, "please watch PIN pad"},
    {0x03, "not accepted"},
    {0x04, "PT is waiting for response from FEP"},
    {0x05, "PT is sending auto-reversal"},
    {0x06, "PT is sending post-bookings"},
    {0x07, "card not admitted"},
    {0x08, "card unknown / undefined"},
    {0x09, "expired card"},
    {0x0A, "insert card"},
    {0x0B, "please remove card!"},
    {0x0C, "card not readable"},
    {0x0D, "processing error"},
    {0x0E, "please wait..."},
    {0x0F, "PT is commencing an automatic end-of-day batch"},
    {0x10, "invalid card"},
    {0x11, "balance display"},
    {0x12, "system malfunction"},
    {0x13, "payment not possible"},
    {0x14, "credit not sufficient"},
    {0x15, "incorrect PIN"},
    {0x16, "limit not sufficient"},
    {0x17, "please wait..."},
    {0x18, "PIN try limit exceeded"},
    {0x19, "card data incorrect"},
    {0x1A, "service mode"},
    {0x1B, "approved, please fill up"},
    {0x1C, "approved, please take goods"},
    {0x1D, "declined"},
    {0x26, "PT is waiting for input of the mobile number"},
    {0x27, "PT is waiting for repeat of the mobile number"},
    {0x28, "currency selection, please wait..."},
    {0x29, "language selection, please wait..."},
    {0x2A, "for loading please insert card"},
    {0x2B, "emergency transaction, please wait"},
    {0x2C, "application selection, please wait"},
    {0xD2, "connecting dial-up"},
    {0xD3, "dial-up connection made"},
    {0xE0, "PT is waiting for application selection"},
    {0xE1, "PT is waiting for language selection"},
    {0xE2, "PT requests to use the cleaning card"},
    {0xF1, "offline"},
    {0xF2, "online"},
    {0xF3, "offline transaction"},
}};

// 41..5D: texts of 01..1D followed by ", please remove card!" (§3.7).
constexpr std::array<std::string_view, 29> kIntermediateRemove{{
    "please watch PIN pad, please remove card!",
    "please watch PIN pad, please remove card!",
    "not accepted, please remove card!",
    "PT is waiting for response from FEP, please remove card!",
    "PT is sending auto-reversal, please remove card!",
    "PT is sending post-bookings, please remove card!",
    "card not admitted, please remove card!",
    "card unknown / undefined, please remove card!",
    "expired card, please remove card!",
    "insert card, please remove card!",
    "please remove card!",
    "card not readable, please remove card!",
    "processing error, please remove card!",
    "please wait..., please remove card!",
    "PT is commencing an automatic end-of-day batch, please remove card!",
    "invalid card, please remove card!",
    "balance display, please remove card!",
    "system malfunction, please remove card!",
    "payment not possible, please remove card!",
    "credit not sufficient, please remove card!",
    "incorrect PIN, please remove card!",
    "limit not sufficient, please remove card!",
    "please wait..., please remove card!",
    "PIN try limit exceeded, please remove card!",
    "card data incorrect, please remove card!",
    "service mode, please remove card!",
    "approved, please fill up, please remove card!",
    "approved, please take goods, please remove card!",
    "declined, please remove card!",
}};

// PA00P015 ch. 11 (terminal status in the Completion after 05 01).
constexpr std::array<Entry, 22> kTerminalStatus{{
    {0x00, "PT ready"},
    {0x51, "initialisation required"},
    {0x62, "date/time incorrect"},
    {0x9C, "please wait (e.g. software update still running)"},
    {0x9D, "partial issue of goods"},
    {0xB1, "memory full"},
    {0xB2, "merchant journal full"},
    {0xBF, "voltage supply too low"},
    {0xC0, "card locking mechanism defective"},
    {0xC1, "merchant card locked"},
    {0xC2, "diagnosis required"},
    {0xC4, "card profile invalid"},
    {0xCC, "printer not ready"},
    {0xDC, "card inserted"},
    {0xDF, "out of order"},
    {0xE0, "remote maintenance activated"},
    {0xE1, "card not completely removed"},
    {0xE2, "card reader does not answer / card reader defective"},
    {0xE3, "shutter closed"},
    {0xE4, "terminal activation required"},
    {0xF0, "reconciliation required"},
    {0xF6, "OPT data not available"},
}};

// PA00P015 ch. 12 (ZVT card-type id, BMP 8A).
constexpr std::array<std::pair<std::uint8_t, CardBrand>, 14> kCardTypes{{
    {2, CardBrand::girocard},  // ec-card, girocard's predecessor
    {5, CardBrand::girocard},
    {6, CardBrand::mastercard},
    {8, CardBrand::amex},
    {10, CardBrand::visa},
    {11, CardBrand::visa_electron},
    {12, CardBrand::diners},
    {13, CardBrand::vpay},
    {14, CardBrand::jcb},
    {46, CardBrand::maestro},
    {196, CardBrand::dankort},
    {197, CardBrand::visa_dankort},
    {198, CardBrand::cup},
    {232, CardBrand::discover},
}};

}  // namespace

std::string_view result_code_text(std::uint8_t code) {
    if (code >= 0x01 && code <= 0x63) return "error from network operator / authorisation system";
    return find(kResultCodes, code, "unknown result code");
}

std::string_view intermediate_status_text(std::uint8_t code) {
    if (code >= 0x41 && code <= 0x5D) return kIntermediateRemove[code - 0x41];
    if (code == 0xFF) return "no matching ZVT status code, see TLV tags 24 and 07";
    return find(kIntermediate, code, "unknown intermediate status");
}

std::string_view terminal_status_text(std::uint8_t code) {
    return find(kTerminalStatus, code, "unknown terminal status");
}

CardBrand brand_from_card_type(std::uint8_t card_type_id) {
    for (const auto& [id, brand] : kCardTypes)
        if (id == card_type_id) return brand;
    return CardBrand::unknown;
}

std::uint8_t card_type_for_brand(CardBrand brand) {
    for (const auto& [id, b] : kCardTypes)
        if (b == brand && id != 2) return id;
    return 0;
}

}  // namespace pb::zvt
