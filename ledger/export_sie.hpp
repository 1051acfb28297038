#pragma once
// SIE 4 export (the Swedish standard import format; SIE-gruppen, "SIE filformat" version 4B).
//
// Format facts this writer follows:
//  - Records are lines "#LABEL field field ..."; fields with spaces are in double quotes, a quote
//    inside is written \" ; object lists are {} ; lines end CRLF.
//  - #FORMAT PC8: the file is in IBM PC code page 437 (å 0x86, ä 0x84, ö 0x94, Å 0x8F,
//    Ä 0x8E, Ö 0x99); characters CP437 lacks become '?'.
//  - Order: #FLAGGA 0, #KSUMMA, #PROGRAM, #FORMAT, #GEN, #SIETYP 4, #ORGNR (if given), #FNAMN,
//    #RAR 0, #KONTO per used account, then #VER series number date "text" with a { } block of
//    #TRANS account {} amount "" "text" rows; amounts with 2 decimals and '.'; every voucher sums
//    to zero; the file ends with #KSUMMA <checksum>.
//  - #KSUMMA: CRC-32 (polynomial 0xEDB88320 reflected, init and final xor 0xFFFFFFFF, as the
//    spec's C routine) over the CP437 bytes of every record between the opening #KSUMMA and the
//    closing one, label and field contents only: no spaces, quotes, braces or line ends (an
//    escaped quote counts as a quote). Written as an unsigned decimal.
// Deterministic: the same closes, counts, plan and options give the same bytes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/vouchers.hpp"

namespace pb::ledger {

struct SieOptions {
    std::string program = "Paybridge";
    std::string program_version = "1.0";
    std::string company_name = "Paybridge";
    std::string org_number;        // #ORGNR, optional
    std::string generated_on;      // #GEN "YYYY-MM-DD"; empty: the newest voucher date
    std::string fiscal_year_start; // #RAR 0 start; empty: 1 January of the newest voucher's year
    std::string fiscal_year_end;   // empty: 31 December of that year
    bool checksum = true;
};

/// The whole file as CP437 bytes.
std::string export_sie4(const std::vector<Voucher>& vouchers, const std::map<std::string, std::string>& account_names,
                        const SieOptions& options);

/// UTF-8 -> CP437 (unmappable characters become '?').
std::string utf8_to_cp437(std::string_view utf8);
/// CRC-32 as the SIE spec's #KSUMMA routine (== zlib crc32).
std::uint32_t sie_crc32(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace pb::ledger
