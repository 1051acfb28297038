#include "protocol/zvt/error.hpp"

namespace pb::zvt {

std::string_view error_name(Error e) {
    switch (e) {
        case Error::apdu_truncated_header: return "apdu_truncated_header";
        case Error::apdu_truncated_ext_length: return "apdu_truncated_ext_length";
        case Error::apdu_length_mismatch: return "apdu_length_mismatch";
        case Error::apdu_too_long: return "apdu_too_long";
        case Error::frame_bad_escape: return "frame_bad_escape";
        case Error::frame_crc_mismatch: return "frame_crc_mismatch";
        case Error::frame_too_long: return "frame_too_long";
        case Error::frame_garbage: return "frame_garbage";
        case Error::bmp_unknown: return "bmp_unknown";
        case Error::bmp_truncated: return "bmp_truncated";
        case Error::bmp_bad_bcd: return "bmp_bad_bcd";
        case Error::bmp_bad_llvar: return "bmp_bad_llvar";
        case Error::bmp_duplicate: return "bmp_duplicate";
        case Error::field_missing: return "field_missing";
        case Error::field_invalid: return "field_invalid";
        case Error::trailing_bytes: return "trailing_bytes";
        case Error::tlv_truncated: return "tlv_truncated";
        case Error::tlv_tag_too_long: return "tlv_tag_too_long";
        case Error::tlv_bad_length: return "tlv_bad_length";
        case Error::tlv_too_deep: return "tlv_too_deep";
        case Error::tlv_too_many: return "tlv_too_many";
    }
    return "unknown_error";
}

std::string_view error_message(Error e) {
    switch (e) {
        case Error::apdu_truncated_header: return "APDU shorter than control field and length";
        case Error::apdu_truncated_ext_length: return "APDU extended length (FF lo hi) is cut short";
        case Error::apdu_length_mismatch: return "APDU length field does not match the data present";
        case Error::apdu_too_long: return "APDU data block exceeds the limit";
        case Error::frame_bad_escape: return "DLE inside a serial frame not followed by DLE or ETX";
        case Error::frame_crc_mismatch: return "CRC of serial frame does not match";
        case Error::frame_too_long: return "serial frame exceeds the length limit";
        case Error::frame_garbage: return "bytes outside a serial frame that are not ACK, NAK or DLE STX";
        case Error::bmp_unknown: return "BMP number not in the ZVT summary table";
        case Error::bmp_truncated: return "BMP value shorter than its format";
        case Error::bmp_bad_bcd: return "non-decimal digit in a BCD field";
        case Error::bmp_bad_llvar: return "LLVAR/LLLVAR length byte not of the form Fx (x in 0..9)";
        case Error::bmp_duplicate: return "the same BMP appears twice";
        case Error::field_missing: return "mandatory field of the command is missing";
        case Error::field_invalid: return "field has a value the specification does not allow";
        case Error::trailing_bytes: return "bytes left after the last field";
        case Error::tlv_truncated: return "TLV tag, length or value runs past its container";
        case Error::tlv_tag_too_long: return "TLV tag longer than 4 bytes";
        case Error::tlv_bad_length: return "TLV length form other than 00..7F, 81 xx, 82 hi lo";
        case Error::tlv_too_deep: return "TLV nesting deeper than the limit";
        case Error::tlv_too_many: return "more TLV elements than the limit";
    }
    return "unknown error";
}

std::string DecodeError::to_string() const {
    std::string s{error_name(code)};
    s += " at byte ";
    s += std::to_string(offset);
    s += ": ";
    s += error_message(code);
    if (!detail.empty()) {
        s += " (";
        s += detail;
        s += ')';
    }
    return s;
}

}  // namespace pb::zvt
