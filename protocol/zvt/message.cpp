#include "protocol/zvt/message.hpp"

#include <array>
#include <string>
#include <utility>

#include "protocol/zvt/fields.hpp"

namespace pb::zvt {
namespace {

constexpr std::array<std::pair<Command, std::string_view>, 25> kNames{{
    {Command::registration, "registration"},
    {Command::authorisation, "authorisation"},
    {Command::log_off, "log_off"},
    {Command::completion, "completion"},
    {Command::abort_from_pt, "abort_from_pt"},
    {Command::repeat_receipt, "repeat_receipt"},
    {Command::pre_authorisation, "pre_authorisation"},
    {Command::partial_reversal, "partial_reversal"},
    {Command::book_total, "book_total"},
    {Command::pre_auth_reversal, "pre_auth_reversal"},
    {Command::reversal, "reversal"},
    {Command::refund, "refund"},
    {Command::end_of_day, "end_of_day"},
    {Command::diagnosis, "diagnosis"},
    {Command::abort, "abort"},
    {Command::read_card, "read_card"},
    {Command::print_line, "print_line"},
    {Command::print_text_block, "print_text_block"},
    {Command::status_enquiry, "status_enquiry"},
    {Command::set_date_time_in_ecr, "set_date_time_in_ecr"},
    {Command::status_information, "status_information"},
    {Command::intermediate_status, "intermediate_status"},
    {Command::positive_ack, "positive_ack"},
    {Command::negative_ack, "negative_ack"},
    {Command::unknown, "unknown"},
}};

Command command_of(std::uint16_t control) {
    if ((control >> 8) == 0x84) return Command::negative_ack;
    for (const auto& [c, name] : kNames)
        if (c != Command::negative_ack && c != Command::unknown &&
            static_cast<std::uint16_t>(c) == control)
            return c;
    return Command::unknown;
}

// Reads the 3-byte BCD password that opens many ECR commands (PA00P015 §1.2).
std::optional<DecodeError> read_password(ByteReader& r, Message& m) {
    const std::size_t at = r.position();
    const auto raw = r.bytes(3);
    if (!raw) return DecodeError{Error::field_missing, at, "password (3 bytes BCD)"};
    ByteReader p(*raw);
    const auto v = p.bcd(3);
    if (!v) return DecodeError{Error::bmp_bad_bcd, at, "password " + to_hex(*raw)};
    m.password = static_cast<std::uint32_t>(*v);
    return std::nullopt;
}

std::optional<DecodeError> read_fields(ByteReader& r, Message& m, DecodeContext ctx = {}) {
    const std::size_t at = r.position();
    auto f = decode_fields(r.rest(), at, FieldOptions{ctx.keep_track2});
    if (!f) return std::move(f.error());
    m.fields = std::move(*f);
    return std::nullopt;
}

bool is_lllvar_prefix(ByteView b) {
    if (b.size() < 3) return false;
    for (std::size_t i = 0; i < 3; ++i)
        if ((b[i] & 0xF0) != 0xF0 || (b[i] & 0x0F) > 9) return false;
    return true;
}

std::optional<DecodeError> decode_body(ByteReader& r, Message& m, DecodeContext ctx) {
    switch (m.command) {
        case Command::registration: {
            // §2.1: <password><config-byte>[<CC>][03 service-byte][06 TLV]. The currency code
            // has no BMP number; only 03 and 06 may follow, so anything else is the CC.
            if (auto e = read_password(r, m)) return e;
            const auto cfg = r.u8();
            if (!cfg) return DecodeError{Error::field_missing, r.position(), "config-byte"};
            m.config_byte = *cfg;
            std::optional<std::uint16_t> cc;
            if (r.remaining() >= 2 && *r.peek() != 0x03 && *r.peek() != 0x06) {
                const std::size_t at = r.position();
                const auto v = r.bcd(2);
                if (!v) return DecodeError{Error::bmp_bad_bcd, at, "currency code"};
                cc = static_cast<std::uint16_t>(*v);
            }
            if (auto e = read_fields(r, m)) return e;
            if (cc) {
                if (m.fields.currency)
                    return DecodeError{Error::bmp_duplicate, 0, "currency twice"};
                m.fields.currency = cc;
            }
            return std::nullopt;
        }
        case Command::completion: {
            if (ctx.in_reply_to != Command::status_enquiry) return read_fields(r, m);
            // §2.56: after a Status Enquiry, [LLLVAR software version]<terminal status>[06 TLV].
            ByteView rest = r.rest();
            ByteReader c(rest);
            // A terminal status of Fx followed by BMP bytes Fy Fz looks like an LLLVAR prefix
            // too; it is read as one only if the software version it announces fits before
            // the status byte that must follow it.
            if (is_lllvar_prefix(rest) && rest.size() > 3) {
                const std::size_t len =
                    (rest[0] & 0x0F) * 100u + (rest[1] & 0x0F) * 10u + (rest[2] & 0x0F);
                if (3 + len < rest.size()) {
                    c.bytes(3);
                    const auto v = *c.bytes(len);
                    m.sw_version = std::string(v.begin(), v.end());
                }
            }
            const std::size_t at = c.position();
            const auto st = c.u8();
            if (!st) return DecodeError{Error::field_missing, at, "terminal status"};
            m.status = *st;
            auto f = decode_fields(c.rest(), c.position());
            if (!f) return std::move(f.error());
            m.fields = std::move(*f);
            return std::nullopt;
        }
        case Command::abort_from_pt: {
            // §3.3: <result-code>[06 TLV]; §2.2.9: result 6F (wrong currency) adds <CC>.
            const auto rc = r.u8();
            if (!rc) return DecodeError{Error::field_missing, 0, "result code"};
            m.status = *rc;
            std::optional<std::uint16_t> cc;
            if (*rc == 0x6F && r.remaining() >= 2 && *r.peek() != 0x06) {
                const std::size_t at = r.position();
                const auto v = r.bcd(2);
                if (!v) return DecodeError{Error::bmp_bad_bcd, at, "currency code"};
                cc = static_cast<std::uint16_t>(*v);
            }
            if (auto e = read_fields(r, m)) return e;
            if (cc) {
                if (m.fields.currency) return DecodeError{Error::bmp_duplicate, 1, "currency twice"};
                m.fields.currency = cc;
            }
            return std::nullopt;
        }
        case Command::repeat_receipt:
        case Command::reversal:
        case Command::refund:
        case Command::end_of_day:
            if (auto e = read_password(r, m)) return e;
            return read_fields(r, m);
        case Command::status_enquiry:
            // §2.56: the password is optional ("05 01 00" is common).
            if (r.empty()) return std::nullopt;
            if (auto e = read_password(r, m)) return e;
            return read_fields(r, m);
        case Command::intermediate_status: {
            // §3.7: <status>[<timeout, 1 byte BCD minutes>][06 TLV]. A lone 06 after the
            // status could be either; prefer the reading that consumes everything as BMPs.
            const auto st = r.u8();
            if (!st) return DecodeError{Error::field_missing, 0, "intermediate status"};
            m.status = *st;
            if (r.empty()) return std::nullopt;
            if (*r.peek() == 0x06 && r.remaining() > 1) {
                ByteView rest = r.rest();
                auto f = decode_fields(rest, 1);
                if (f) {
                    m.fields = std::move(*f);
                    return std::nullopt;
                }
                // Not BMPs after all: the 06 is the timeout.
                ByteReader again(rest);
                const auto t = again.bcd(1);
                m.timeout_min = static_cast<std::uint8_t>(*t);
                auto g = decode_fields(again.rest(), 2);
                if (!g) return std::move(g.error());
                m.fields = std::move(*g);
                return std::nullopt;
            }
            const auto t = r.bcd(1);
            if (!t) return DecodeError{Error::bmp_bad_bcd, 1, "timeout minutes"};
            m.timeout_min = static_cast<std::uint8_t>(*t);
            return read_fields(r, m);
        }
        case Command::print_line: {
            // §3.5: <attribute><text>; the text is CP437 (or as negotiated), kept untouched.
            const auto attr = r.u8();
            if (!attr) return DecodeError{Error::field_missing, 0, "print attribute"};
            m.print_attribute = *attr;
            const auto text = r.rest();
            // Some terminals (card complete, Portalum PrintLineTest) append BMP 06 with the
            // receipt type (1F07) after the text; split there if the tail is exactly BMPs.
            std::size_t end = text.size();
            for (std::size_t i = 0; i < text.size(); ++i) {
                if (text[i] != 0x06) continue;
                auto f = decode_fields(text.subspan(i), 1 + i);
                if (f) {
                    m.fields = std::move(*f);
                    end = i;
                    break;
                }
            }
            m.print_text = std::string(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end));
            return std::nullopt;
        }
        case Command::negative_ack: {
            // 84 xx: data is usually empty; 84 9D carries BMP 04 (§3.1.1). Vendor payloads
            // that are not BMPs (card complete's 84 6C 01 21) are kept raw.
            m.status = static_cast<std::uint8_t>(m.control & 0xFF);
            ByteView rest = r.rest();
            auto f = decode_fields(rest, 0);
            if (f)
                m.fields = std::move(*f);
            else
                m.raw.assign(rest.begin(), rest.end());
            return std::nullopt;
        }
        case Command::read_card: {
            // §2.21: <timeout, 1 byte binary seconds>[19 card-type][FC dialog-control][06 TLV].
            const auto t = r.u8();
            if (!t) return DecodeError{Error::field_missing, 0, "read-card timeout"};
            m.timeout_s = *t;
            return read_fields(r, m);
        }
        case Command::unknown: {
            const auto rest = r.rest();
            m.raw.assign(rest.begin(), rest.end());
            return std::nullopt;
        }
        case Command::status_information:
            return read_fields(r, m, ctx);
        default:
            return read_fields(r, m);
    }
}

}  // namespace

std::string_view command_name(Command c) {
    for (const auto& [cmd, name] : kNames)
        if (cmd == c) return name;
    return "unknown";
}

std::optional<Command> command_from_name(std::string_view name) {
    for (const auto& [cmd, n] : kNames)
        if (n == name) return cmd;
    return std::nullopt;
}

Expected<Message, DecodeError> decode_message(const Apdu& apdu, DecodeContext ctx) {
    Message m;
    m.control = apdu.control();
    m.command = command_of(m.control);
    ByteReader r(apdu.data);
    if (auto e = decode_body(r, m, ctx)) return unexpected(std::move(*e));
    return m;
}

Apdu encode_message(const Message& m) {
    Apdu a;
    std::uint16_t control = static_cast<std::uint16_t>(m.command);
    if (m.command == Command::unknown) control = m.control;
    if (m.command == Command::negative_ack)
        control = static_cast<std::uint16_t>(0x8400 | m.status.value_or(m.control & 0xFF));
    a.cls = static_cast<std::uint8_t>(control >> 8);
    a.instr = static_cast<std::uint8_t>(control & 0xFF);
    Bytes& d = a.data;
    const auto password = [&] { put_bcd(d, m.password.value_or(0), 3); };
    switch (m.command) {
        case Command::registration: {
            password();
            d.push_back(m.config_byte.value_or(0));
            Fields f = m.fields;
            // A CC whose first byte reads as BMP 03/06 would be misread (§2.1): send it as BMP 49.
            if (f.currency && *f.currency / 100 != 3 && *f.currency / 100 != 6) {
                put_bcd(d, *f.currency, 2);
                f.currency.reset();
            }
            encode_fields(f, d);
            break;
        }
        case Command::completion:
            if (m.status) {
                // Status-Enquiry reply layout (§2.56), chosen when a terminal status is set.
                if (m.sw_version) {
                    put_llvar(d, 3, m.sw_version->size());
                    d.insert(d.end(), m.sw_version->begin(), m.sw_version->end());
                }
                d.push_back(*m.status);
            }
            encode_fields(m.fields, d);
            break;
        case Command::abort_from_pt: {
            d.push_back(m.status.value_or(0));
            Fields f = m.fields;
            if (m.status == 0x6F && f.currency && *f.currency / 100 != 6) {
                put_bcd(d, *f.currency, 2);
                f.currency.reset();
            }
            encode_fields(f, d);
            break;
        }
        case Command::repeat_receipt:
        case Command::reversal:
        case Command::refund:
        case Command::end_of_day:
            password();
            encode_fields(m.fields, d);
            break;
        case Command::status_enquiry:
            if (m.password) password();
            encode_fields(m.fields, d);
            break;
        case Command::intermediate_status:
            d.push_back(m.status.value_or(0));
            if (m.timeout_min) put_bcd(d, *m.timeout_min, 1);
            encode_fields(m.fields, d);
            break;
        case Command::print_line:
            d.push_back(m.print_attribute.value_or(0));
            if (m.print_text) d.insert(d.end(), m.print_text->begin(), m.print_text->end());
            encode_fields(m.fields, d);
            break;
        case Command::negative_ack:
            encode_fields(m.fields, d);
            d.insert(d.end(), m.raw.begin(), m.raw.end());
            break;
        case Command::read_card:
            d.push_back(m.timeout_s.value_or(0));
            encode_fields(m.fields, d);
            break;
        case Command::unknown:
            d = m.raw;
            break;
        default:
            encode_fields(m.fields, d);
            break;
    }
    return a;
}

Message make_ack() {
    Message m;
    m.command = Command::positive_ack;
    m.control = 0x8000;
    return m;
}

Message make_nack(std::uint8_t error_id) {
    Message m;
    m.command = Command::negative_ack;
    m.control = static_cast<std::uint16_t>(0x8400 | error_id);
    m.status = error_id;
    return m;
}

}  // namespace pb::zvt
