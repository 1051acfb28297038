#pragma once
// ZVT messages: every command and response Paybridge or its simulator exchanges, decoded
// into one value type. Fixed-position fields (password, config byte, status codes) are
// members; bitmap fields (BMPs, PA00P015 ch. 13) live in `fields`.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/core/bytes.hpp"
#include "protocol/core/expected.hpp"
#include "protocol/zvt/apdu.hpp"
#include "protocol/zvt/error.hpp"
#include "protocol/zvt/tlv.hpp"

namespace pb::zvt {

/// Control fields (CLASS<<8 | INSTR). Unknown ones decode as Command::unknown.
enum class Command : std::uint16_t {
    registration = 0x0600,          // PA00P015 §2.1
    authorisation = 0x0601,         // §2.2
    log_off = 0x0602,               // §2.24
    completion = 0x060F,            // §3.2
    abort_from_pt = 0x061E,         // §3.3
    repeat_receipt = 0x0620,        // §2.20
    pre_authorisation = 0x0622,     // §2.8
    partial_reversal = 0x0623,      // §2.10
    book_total = 0x0624,            // §2.11
    pre_auth_reversal = 0x0625,     // §2.10
    reversal = 0x0630,              // §2.9
    refund = 0x0631,                // §2.15
    end_of_day = 0x0650,            // §2.16
    diagnosis = 0x0670,             // §2.17
    abort = 0x06B0,                 // §2.23
    read_card = 0x06C0,             // §2.21
    print_line = 0x06D1,            // §3.5
    print_text_block = 0x06D3,      // §3.6
    status_enquiry = 0x0501,        // §2.56
    set_date_time_in_ecr = 0x0401,  // §3.4
    status_information = 0x040F,    // §3.1
    intermediate_status = 0x04FF,   // §3.7
    positive_ack = 0x8000,          // PA00P016 §5.2.3
    negative_ack = 0x8400,          // 84 xx: CCRC 84, APRC = error id (see Message::status)
    unknown = 0xFFFF,
};

std::string_view command_name(Command c);  // "authorisation", "status_information", ...
std::optional<Command> command_from_name(std::string_view name);

/// End-of-day totals (BMP 60 in the 04 0F after 06 50, PA00P015 §3.1.3): receipt number
/// range then seven fixed buckets of count + amount.
struct EodTotals {
    struct Bucket {
        std::uint8_t count = 0;
        std::int64_t amount = 0;  // minor units
        friend bool operator==(const Bucket&, const Bucket&) = default;
    };
    std::uint16_t receipt_from = 0;
    std::uint16_t receipt_to = 0;
    // Fixed order per spec: girocard, JCB, Eurocard/Mastercard, Amex, Visa, Diners, others.
    Bucket girocard, jcb, mastercard, amex, visa, diners, others;
    friend bool operator==(const EodTotals&, const EodTotals&) = default;

    /// The seven buckets with their names ("girocard", "jcb", "mastercard", "amex", "visa",
    /// "diners", "others"), in the spec's order.
    std::array<std::pair<std::string_view, Bucket>, 7> named() const {
        return {{{"girocard", girocard}, {"jcb", jcb}, {"mastercard", mastercard}, {"amex", amex},
                 {"visa", visa}, {"diners", diners}, {"others", others}}};
    }
};

/// Bitmap fields. Each is present only if it was on the wire (or is to be sent).
/// Track data (BMP 23/24/2D) is never kept: only its length, so no full PAN can leak.
struct Fields {
    std::optional<std::uint8_t> timeout_s;          // 01
    std::optional<std::uint8_t> max_status_infos;   // 02
    std::optional<std::uint8_t> service_byte;       // 03
    std::optional<std::int64_t> amount;             // 04, 6 byte BCD minor units
    std::optional<std::uint8_t> pump;               // 05
    std::optional<std::vector<TlvNode>> tlv;        // 06
    std::optional<std::uint32_t> trace;             // 0B, 3 byte BCD
    std::optional<std::uint32_t> time_hhmmss;       // 0C, 3 byte BCD
    std::optional<std::uint16_t> date_mmdd;         // 0D, 2 byte BCD
    std::optional<std::uint16_t> expiry_yymm;       // 0E, 2 byte BCD
    std::optional<std::uint16_t> card_sequence;     // 17, 2 byte BCD
    std::optional<std::uint8_t> payment_type;       // 19 (status byte / payment type)
    std::optional<std::string> masked_pan;          // 22, LLVAR BCD; 'E' nibbles -> '*'
    std::optional<std::size_t> track_length;        // 23/24/2D length only
    /// 23 as digits with '=' for the D separator, kept only when decoding the answer to a
    /// Read Card (06 C0, §2.21) with DecodeContext::keep_track2: the ECR reads its own
    /// customer cards (a commitment card's number) that way. Never logged in full.
    std::optional<std::string> track2;
    std::optional<std::uint8_t> result_code;        // 27
    std::optional<std::uint32_t> tid;               // 29, 4 byte BCD (8 digits)
    std::optional<std::string> vu_number;           // 2A, 15 byte ASCII
    std::optional<std::uint32_t> original_trace;    // 37, 3 byte BCD
    std::optional<std::string> aid;                 // 3B, 8 bytes (authorisation attribute)
    std::optional<std::string> additional_text;     // 3C, LLLVAR
    std::optional<std::uint32_t> password;          // 3D, 3 byte BCD
    std::optional<std::uint16_t> currency;          // 49, 2 byte BCD ISO 4217 numeric
    std::optional<EodTotals> totals;                // 60, LLLVAR
    std::optional<std::uint16_t> receipt_no;        // 87, 2 byte BCD; 0xFFFF = wire FF FF
                                                    // ("all / none", 06 23 enquiry, §2.10)
    std::optional<std::uint32_t> turnover_no;       // 88, 3 byte BCD
    std::optional<std::uint8_t> card_type;          // 8A, ZVT card-type id
    std::optional<std::string> card_name;           // 8B, LLVAR (NUL terminator dropped)
    std::optional<std::uint8_t> card_type_network;  // 8C
    std::optional<std::uint8_t> result_code_as;     // A0
    std::optional<std::uint32_t> date_yymmdd;       // AA, 3 byte BCD
    std::optional<Bytes> aid_parameter;             // BA, 5 bytes
    std::optional<std::uint8_t> card_output;        // D2
    /// Fields the codec knows by number but not by meaning are kept raw for tracing
    /// (value without its LL/LLL prefix). CVV (3A) is never kept.
    std::vector<std::pair<std::uint8_t, Bytes>> other;
    /// BMP numbers in the order they were on the wire, so that a decoded message re-encodes
    /// to the same bytes (older ECRs rely on the order, §3.1.1). Encoding emits these first,
    /// then any other present field in canonical order (27 first, ascending, 06 last).
    /// Ignored by ==.
    struct WireOrder {
        std::vector<std::uint8_t> bmps;
        friend bool operator==(const WireOrder&, const WireOrder&) { return true; }
    } order;

    friend bool operator==(const Fields&, const Fields&) = default;
};

struct Message {
    Command command = Command::unknown;
    std::uint16_t control = 0;  // as on the wire (for unknown commands and 84 xx)

    // Fixed-position fields, by command:
    std::optional<std::uint32_t> password;     // 06 00/20/30/31/50, 05 01 ... (3 byte BCD)
    std::optional<std::uint8_t> config_byte;   // 06 00
    std::optional<std::uint8_t> status;        // 04 FF intermediate status, 06 0F terminal
                                               // status (after 05 01), 06 1E result code,
                                               // 84 xx error id
    std::optional<std::uint8_t> timeout_min;   // 04 FF optional BCD minutes
    std::optional<std::uint8_t> timeout_s;     // 06 C0 read-card timeout, 1 byte binary (§2.21)
    std::optional<std::string> sw_version;     // 06 0F after 05 01 (LLLVAR)
    std::optional<std::uint8_t> print_attribute;  // 06 D1
    std::optional<std::string> print_text;        // 06 D1 (bytes as chars, CP437 untouched)
    Fields fields;
    Bytes raw;  // data block of an unknown command, untouched

    friend bool operator==(const Message&, const Message&) = default;
};

/// What the decoder needs to know about the conversation: a Completion (06 0F) answering a
/// Status Enquiry carries <LLLVAR sw-version><terminal status> instead of BMPs (§2.56).
struct DecodeContext {
    Command in_reply_to = Command::unknown;
    /// Keep BMP 23 (track 2) as Fields::track2. Only the answer to our own Read Card may;
    /// everywhere else track data is reduced to its length (no PAN is ever kept).
    bool keep_track2 = false;
};

/// Offsets in a DecodeError are relative to the start of the APDU's data block.
Expected<Message, DecodeError> decode_message(const Apdu& apdu, DecodeContext ctx = {});
Apdu encode_message(const Message& m);

/// Shorthands for the messages both sides build most.
Message make_ack();                        // 80 00 00
Message make_nack(std::uint8_t error_id);  // 84 xx 00

}  // namespace pb::zvt
