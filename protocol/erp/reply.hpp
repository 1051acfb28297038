#pragma once
// Reply envelopes (protocol/erp/README.md, "Replies"): every request gets exactly one reply
//   {"v": 1, "id": <request id>, "type": <request type>, "ok": true,  "result": {...}}
//   {"v": 1, "id": <request id or null>, "type": ..., "ok": false, "error": {code, name, message, field}}

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "protocol/core/expected.hpp"
#include "protocol/erp/error.hpp"
#include "protocol/erp/request.hpp"

namespace pb::erp {

boost::json::object ok_json(std::string_view id, std::string_view type, boost::json::object result);
boost::json::object error_json(const ErpError& e);
std::string encode_ok(std::string_view id, std::string_view type, boost::json::object result);
/// Uses e.id / e.type (from parse_request) so the client can match the reply.
std::string encode_error(const ErpError& e);

struct Reply {
    std::string id;  // empty when the server could not read the request's id
    std::string type;
    bool ok = false;
    boost::json::object result;  // when ok
    ErpError error;              // when !ok
};

/// For C++ clients and tests. Unknown fields are ignored (forward compatible within v 1).
Expected<Reply, ErpError> parse_reply(std::string_view raw, const Limits& limits = {});

}  // namespace pb::erp
