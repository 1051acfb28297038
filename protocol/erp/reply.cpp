#include "protocol/erp/reply.hpp"

#include <boost/json/serialize.hpp>

#include "protocol/erp/field_reader.hpp"

namespace pb::erp {
namespace json = boost::json;

json::object ok_json(std::string_view id, std::string_view type, json::object result) {
    json::object o;
    o["v"] = kProtocolVersion;
    o["id"] = id;
    o["type"] = type;
    o["ok"] = true;
    o["result"] = std::move(result);
    return o;
}

json::object error_json(const ErpError& e) {
    json::object err;
    err["code"] = static_cast<int>(e.code);
    err["name"] = error_name(e.code);
    err["message"] = e.message.empty() ? std::string(error_message(e.code)) : e.message;
    if (!e.field.empty()) err["field"] = e.field;
    json::object o;
    o["v"] = kProtocolVersion;
    if (e.id.empty()) o["id"] = nullptr;
    else o["id"] = e.id;
    if (!e.type.empty()) o["type"] = e.type;
    o["ok"] = false;
    o["error"] = std::move(err);
    return o;
}

std::string encode_ok(std::string_view id, std::string_view type, json::object result) {
    return json::serialize(ok_json(id, type, std::move(result)));
}

std::string encode_error(const ErpError& e) { return json::serialize(error_json(e)); }

Expected<Reply, ErpError> parse_reply(std::string_view raw, const Limits& limits) {
    auto parsed = parse_object(raw, limits);
    if (!parsed) return unexpected(parsed.error());
    FieldReader r(parsed->get_object(), "", limits);
    r.version();
    Reply rep;
    rep.id = r.id("id", Need::optional);
    rep.type = r.id("type", Need::optional);
    rep.ok = r.boolean("ok", false);
    if (!r.has("ok")) r.fail(ErrorCode::missing_field, "/ok", "ok is required");
    if (r.ok() && rep.ok) {
        if (const json::object* res = r.object("result", Need::required)) rep.result = *res;
    } else if (r.ok()) {
        if (const json::object* err = r.object("error", Need::required)) {
            FieldReader er = r.nested("error", *err);
            int code = static_cast<int>(er.integer("code", Need::required, 0, 65535));
            std::string name = er.id("name", Need::optional);
            rep.error.message = er.text("message", Need::optional);
            rep.error.field = er.text("field", Need::optional);
            if (er.ok()) {
                // An unknown number from a newer server is kept as "internal" with its text.
                rep.error.code = error_from_number(code).value_or(ErrorCode::internal);
                if (!error_from_number(code))
                    rep.error.message = "code " + std::to_string(code) + " (" + name + "): " + rep.error.message;
            }
            r.take_error(er);
        }
        rep.error.id = rep.id;
        rep.error.type = rep.type;
    }
    if (!r.ok()) return unexpected(*r.error());
    return rep;
}

}  // namespace pb::erp
