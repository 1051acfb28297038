#include "protocol/zvt/json.hpp"

#include <boost/json.hpp>

#include <cstdio>

#include "protocol/core/money.hpp"
#include "protocol/zvt/fields.hpp"
#include "protocol/zvt/tables.hpp"

namespace pb::zvt {
namespace json = boost::json;
namespace {

// Text fields are bytes (CP437 or as negotiated, PA00P015 §15.2). JSON carries them as
// Latin-1 code points so every byte survives the trip both ways.
std::string bytes_to_utf8(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

std::optional<std::string> utf8_to_bytes(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size()) {
            out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F));
        } else {
            return std::nullopt;  // beyond U+00FF: not a byte
        }
    }
    return out;
}

std::string hex_tag(std::uint32_t tag) {
    char buf[16];
    std::snprintf(buf, sizeof buf, tag > 0xFFFFFF ? "%08x" : tag > 0xFFFF ? "%06x" : tag > 0xFF ? "%04x" : "%02x", tag);
    return buf;
}

bool printable(const Bytes& b) {
    if (b.empty()) return false;
    for (auto c : b)
        if (c < 0x20 || c == 0x7F) return false;
    return true;
}

json::array tlv_to_json(const std::vector<TlvNode>& nodes) {
    json::array a;
    for (const auto& n : nodes) {
        json::object o;
        o["tag"] = hex_tag(n.tag);
        if (n.constructed()) {
            o["children"] = tlv_to_json(n.children);
        } else {
            o["value"] = to_hex(n.value, false);
            if (printable(n.value)) o["text"] = bytes_to_utf8(n.text());
        }
        a.push_back(std::move(o));
    }
    return a;
}

json::object bucket_json(const EodTotals::Bucket& b) { return {{"count", b.count}, {"amount", b.amount}}; }

json::object fields_to_json(const Fields& f) {
    json::object o;
    std::optional<Currency> cur;
    if (f.currency) cur = currency_from_numeric(*f.currency);
    const auto num = [&](const char* k, const auto& v) {
        if (v) o[k] = *v;
    };
    num("timeout_s", f.timeout_s);
    num("max_status_infos", f.max_status_infos);
    num("service_byte", f.service_byte);
    if (f.amount) {
        json::object a{{"minor", *f.amount}};
        if (cur) {
            a["currency"] = std::string(cur->code());
            a["text"] = format_money(Money{*f.amount, *cur});
        }
        o["amount"] = std::move(a);
    }
    num("pump", f.pump);
    if (f.tlv) o["tlv"] = tlv_to_json(*f.tlv);
    num("trace", f.trace);
    num("time_hhmmss", f.time_hhmmss);
    num("date_mmdd", f.date_mmdd);
    num("expiry_yymm", f.expiry_yymm);
    num("card_sequence", f.card_sequence);
    num("payment_type", f.payment_type);
    if (f.masked_pan) o["masked_pan"] = *f.masked_pan;
    num("track_length", f.track_length);
    // Read Card data: only its shape, never the number (it may be any card).
    if (f.track2) o["track2"] = std::string(f.track2->size(), '*');
    if (f.result_code)
        o["result_code"] = {{"code", *f.result_code}, {"text", result_code_text(*f.result_code)}};
    num("tid", f.tid);
    if (f.vu_number) o["vu_number"] = bytes_to_utf8(*f.vu_number);
    num("original_trace", f.original_trace);
    if (f.aid) o["aid"] = bytes_to_utf8(*f.aid);
    if (f.additional_text) o["additional_text"] = bytes_to_utf8(*f.additional_text);
    num("password", f.password);
    if (f.currency) {
        json::object c{{"numeric", *f.currency}};
        if (cur) c["code"] = std::string(cur->code());
        o["currency"] = std::move(c);
    }
    if (f.totals) {
        const auto& t = *f.totals;
        o["totals"] = {{"receipt_from", t.receipt_from}, {"receipt_to", t.receipt_to},
                       {"girocard", bucket_json(t.girocard)}, {"jcb", bucket_json(t.jcb)},
                       {"mastercard", bucket_json(t.mastercard)}, {"amex", bucket_json(t.amex)},
                       {"visa", bucket_json(t.visa)}, {"diners", bucket_json(t.diners)},
                       {"others", bucket_json(t.others)}};
    }
    num("receipt_no", f.receipt_no);
    num("turnover_no", f.turnover_no);
    if (f.card_type) {
        const CardBrand b = brand_from_card_type(*f.card_type);
        o["card_type"] = {{"id", *f.card_type}, {"brand", brand_id(b)}, {"name", brand_name(b)}};
    }
    if (f.card_name) o["card_name"] = bytes_to_utf8(*f.card_name);
    num("card_type_network", f.card_type_network);
    if (f.result_code_as) o["result_code_as"] = *f.result_code_as;
    num("date_yymmdd", f.date_yymmdd);
    if (f.aid_parameter) o["aid_parameter"] = to_hex(*f.aid_parameter, false);
    num("card_output", f.card_output);
    if (!f.other.empty()) {
        json::array a;
        for (const auto& [bmp, value] : f.other) {
            const auto fmt = bmp_format(bmp);
            a.push_back(json::object{{"bmp", hex_tag(bmp)},
                                     {"name", fmt ? fmt->name : "unknown"},
                                     {"value", to_hex(value, false)}});
        }
        o["other"] = std::move(a);
    }
    return o;
}

// ---- from JSON ----

struct Reader {
    std::string error;

    const json::value* get(const json::object& o, std::string_view key) {
        auto it = o.find(key);
        return it == o.end() ? nullptr : &it->value();
    }
    template <class T>
    bool number(const json::object& o, std::string_view key, std::optional<T>& out,
                std::uint64_t max) {
        const auto* v = get(o, key);
        if (!v) return true;
        std::int64_t n = 0;
        if (v->is_int64()) n = v->as_int64();
        else if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) n = static_cast<std::int64_t>(v->as_uint64());
        else return fail(key, "expected an integer");
        if (n < 0 || static_cast<std::uint64_t>(n) > max) return fail(key, "out of range 0.." + std::to_string(max));
        out = static_cast<T>(n);
        return true;
    }
    bool text(const json::object& o, std::string_view key, std::optional<std::string>& out) {
        const auto* v = get(o, key);
        if (!v) return true;
        if (!v->is_string()) return fail(key, "expected a string");
        auto b = utf8_to_bytes(v->as_string());
        if (!b) return fail(key, "characters beyond U+00FF cannot be sent");
        out = std::move(*b);
        return true;
    }
    bool hex(const json::object& o, std::string_view key, std::optional<Bytes>& out) {
        const auto* v = get(o, key);
        if (!v) return true;
        if (!v->is_string()) return fail(key, "expected a hex string");
        auto b = from_hex(v->as_string());
        if (!b) return fail(key, "not hex");
        out = std::move(*b);
        return true;
    }
    bool fail(std::string_view key, std::string what) {
        if (error.empty()) error = "key '" + std::string(key) + "': " + what;
        return false;
    }
    // Accepts either a plain integer or an object holding it under `inner`.
    template <class T>
    bool number_or_object(const json::object& o, std::string_view key, std::string_view inner,
                          std::optional<T>& out, std::uint64_t max) {
        const auto* v = get(o, key);
        if (v && v->is_object()) {
            if (!number(v->as_object(), inner, out, max)) return false;
            if (!out) return fail(key, "missing '" + std::string(inner) + "'");
            return true;
        }
        return number(o, key, out, max);
    }

    bool tlv(const json::value& v, std::vector<TlvNode>& out, int depth) {
        if (depth > static_cast<int>(kMaxTlvDepth)) return fail("tlv", "nested too deep");
        if (!v.is_array()) return fail("tlv", "expected an array");
        for (const auto& e : v.as_array()) {
            if (!e.is_object()) return fail("tlv", "expected objects");
            const auto& o = e.as_object();
            const auto* t = get(o, "tag");
            if (!t || !t->is_string()) return fail("tlv.tag", "expected a hex string");
            const auto tb = from_hex(t->as_string());
            if (!tb || tb->empty() || tb->size() > 4) return fail("tlv.tag", "1 to 4 hex bytes");
            std::uint32_t tag = 0;
            for (auto b : *tb) tag = (tag << 8) | b;
            TlvNode n;
            n.tag = tag;
            if (const auto* c = get(o, "children")) {
                if (!tlv(*c, n.children, depth + 1)) return false;
            } else {
                std::optional<Bytes> value;
                if (!hex(o, "value", value)) return false;
                if (!value) {
                    std::optional<std::string> txt;
                    if (!text(o, "text", txt)) return false;
                    if (txt) value = Bytes(txt->begin(), txt->end());
                }
                n.value = value.value_or(Bytes{});
            }
            out.push_back(std::move(n));
        }
        return true;
    }

    bool bucket(const json::object& o, std::string_view key, EodTotals::Bucket& b) {
        const auto* v = get(o, key);
        if (!v) return true;
        if (!v->is_object()) return fail(key, "expected {count, amount}");
        std::optional<std::uint8_t> c;
        std::optional<std::int64_t> a;
        if (!number(v->as_object(), "count", c, 255) || !number(v->as_object(), "amount", a, 999999999999ULL))
            return false;
        b.count = c.value_or(0);
        b.amount = a.value_or(0);
        return true;
    }

    bool fields(const json::object& o, Fields& f) {
        bool ok = number(o, "timeout_s", f.timeout_s, 255) &&
                  number(o, "max_status_infos", f.max_status_infos, 255) &&
                  number(o, "service_byte", f.service_byte, 255) &&
                  number_or_object(o, "amount", "minor", f.amount, 999999999999ULL) &&
                  number(o, "pump", f.pump, 255) && number(o, "trace", f.trace, 999999) &&
                  number(o, "time_hhmmss", f.time_hhmmss, 999999) &&
                  number(o, "date_mmdd", f.date_mmdd, 9999) &&
                  number(o, "expiry_yymm", f.expiry_yymm, 9999) &&
                  number(o, "card_sequence", f.card_sequence, 9999) &&
                  number(o, "payment_type", f.payment_type, 255) &&
                  text(o, "masked_pan", f.masked_pan) &&
                  number_or_object(o, "result_code", "code", f.result_code, 255) &&
                  number(o, "tid", f.tid, 99999999) && text(o, "vu_number", f.vu_number) &&
                  number(o, "original_trace", f.original_trace, 999999) && text(o, "aid", f.aid) &&
                  text(o, "additional_text", f.additional_text) &&
                  number(o, "password", f.password, 999999) &&
                  number_or_object(o, "currency", "numeric", f.currency, 9999) &&
                  number(o, "receipt_no", f.receipt_no, 0xFFFF) &&
                  number(o, "turnover_no", f.turnover_no, 999999) &&
                  number_or_object(o, "card_type", "id", f.card_type, 255) &&
                  text(o, "card_name", f.card_name) &&
                  number(o, "card_type_network", f.card_type_network, 255) &&
                  number(o, "result_code_as", f.result_code_as, 255) &&
                  number(o, "date_yymmdd", f.date_yymmdd, 999999) &&
                  hex(o, "aid_parameter", f.aid_parameter) &&
                  number(o, "card_output", f.card_output, 255);
        if (!ok) return false;
        if (f.receipt_no && *f.receipt_no > 9999 && *f.receipt_no != 0xFFFF)
            return fail("receipt_no", "0..9999 or 65535 (FF FF)");
        if (f.masked_pan) {
            for (char c : *f.masked_pan)
                if (!(c == '*' || (c >= '0' && c <= '9'))) return fail("masked_pan", "digits and '*' only");
            const auto masked = MaskedPan::from_digits(*f.masked_pan);
            if (!masked) return fail("masked_pan", "at most 19 digits");
            f.masked_pan = masked->str();  // never send more than a masked PAN
        }
        if (f.aid_parameter && f.aid_parameter->size() != 5) return fail("aid_parameter", "5 bytes");
        if (f.vu_number && f.vu_number->size() > 15) return fail("vu_number", "at most 15 characters");
        if (f.aid && f.aid->size() > 8) return fail("aid", "at most 8 characters");
        if (f.card_name && f.card_name->size() > 98) return fail("card_name", "at most 98 characters");
        if (f.additional_text && f.additional_text->size() > 999) return fail("additional_text", "at most 999 bytes");
        if (const auto* t = get(o, "tlv")) {
            f.tlv.emplace();
            if (!tlv(*t, *f.tlv, 0)) return false;
        }
        if (const auto* t = get(o, "totals")) {
            if (!t->is_object()) return fail("totals", "expected an object");
            const auto& to = t->as_object();
            EodTotals tot;
            std::optional<std::uint16_t> from, upto;
            if (!number(to, "receipt_from", from, 9999) || !number(to, "receipt_to", upto, 9999)) return false;
            tot.receipt_from = from.value_or(0);
            tot.receipt_to = upto.value_or(0);
            if (!bucket(to, "girocard", tot.girocard) || !bucket(to, "jcb", tot.jcb) ||
                !bucket(to, "mastercard", tot.mastercard) || !bucket(to, "amex", tot.amex) ||
                !bucket(to, "visa", tot.visa) || !bucket(to, "diners", tot.diners) ||
                !bucket(to, "others", tot.others))
                return false;
            f.totals = tot;
        }
        if (const auto* t = get(o, "other")) {
            if (!t->is_array()) return fail("other", "expected an array");
            for (const auto& e : t->as_array()) {
                if (!e.is_object()) return fail("other", "expected objects {bmp, value}");
                std::optional<Bytes> bmp, value;
                if (!hex(e.as_object(), "bmp", bmp) || !hex(e.as_object(), "value", value)) return false;
                if (!bmp || bmp->size() != 1 || !bmp_format((*bmp)[0]))
                    return fail("other.bmp", "a BMP number of the ZVT table, e.g. \"92\"");
                f.other.emplace_back((*bmp)[0], value.value_or(Bytes{}));
            }
        }
        return true;
    }
};

}  // namespace

json::value to_json(const Message& m) {
    json::object o;
    o["command"] = command_name(m.command);
    const std::uint8_t ctl[2] = {static_cast<std::uint8_t>(m.control >> 8),
                                 static_cast<std::uint8_t>(m.control & 0xFF)};
    o["control"] = to_hex(ByteView(ctl, 2), true);
    if (m.password) o["password"] = *m.password;
    if (m.config_byte) o["config_byte"] = *m.config_byte;
    if (m.status) {
        o["status"] = *m.status;
        switch (m.command) {
            case Command::intermediate_status: o["status_text"] = intermediate_status_text(*m.status); break;
            case Command::completion: o["status_text"] = terminal_status_text(*m.status); break;
            default: o["status_text"] = result_code_text(*m.status); break;
        }
    }
    if (m.timeout_min) o["timeout_min"] = *m.timeout_min;
    if (m.timeout_s) o["timeout_s"] = *m.timeout_s;
    if (m.sw_version) o["sw_version"] = bytes_to_utf8(*m.sw_version);
    if (m.print_attribute) o["print_attribute"] = *m.print_attribute;
    if (m.print_text) o["print_text"] = bytes_to_utf8(*m.print_text);
    if (!m.raw.empty()) o["raw"] = to_hex(m.raw, false);
    o["fields"] = fields_to_json(m.fields);
    return o;
}

Expected<Message, std::string> message_from_json(const json::value& v) {
    if (!v.is_object()) return unexpected(std::string("expected a JSON object"));
    const auto& o = v.as_object();
    Reader r;
    Message m;
    const auto* cmd = r.get(o, "command");
    if (!cmd || !cmd->is_string()) return unexpected(std::string("key 'command': expected a command name"));
    const auto c = command_from_name(cmd->as_string());
    if (!c) return unexpected("key 'command': unknown command '" + std::string(cmd->as_string()) + "'");
    m.command = *c;
    m.control = static_cast<std::uint16_t>(*c);
    std::optional<Bytes> control, raw;
    if (!r.hex(o, "control", control)) return unexpected(r.error);
    if (control) {
        if (control->size() != 2) return unexpected(std::string("key 'control': expected 2 bytes"));
        m.control = static_cast<std::uint16_t>(((*control)[0] << 8) | (*control)[1]);
    } else if (m.command == Command::unknown) {
        return unexpected(std::string("key 'control': required for an unknown command"));
    }
    const bool ok = r.number(o, "password", m.password, 999999) &&
                    r.number(o, "config_byte", m.config_byte, 255) &&
                    r.number(o, "status", m.status, 255) &&
                    r.number(o, "timeout_min", m.timeout_min, 99) &&
                    r.number(o, "timeout_s", m.timeout_s, 255) &&
                    r.text(o, "sw_version", m.sw_version) &&
                    r.number(o, "print_attribute", m.print_attribute, 255) &&
                    r.text(o, "print_text", m.print_text) && r.hex(o, "raw", raw);
    if (!ok) return unexpected(r.error);
    if (raw) m.raw = *raw;
    if (m.command == Command::negative_ack) {
        if (!m.status && control) m.status = static_cast<std::uint8_t>(m.control & 0xFF);
        if (!m.status) return unexpected(std::string("key 'status': required for negative_ack (84 xx)"));
        m.control = static_cast<std::uint16_t>(0x8400 | *m.status);
    }
    if (const auto* f = r.get(o, "fields")) {
        if (!f->is_object()) return unexpected(std::string("key 'fields': expected an object"));
        if (!r.fields(f->as_object(), m.fields)) return unexpected(r.error);
    }
    return m;
}

}  // namespace pb::zvt
