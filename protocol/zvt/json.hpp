#pragma once
// ZVT messages as JSON for technicians (`paybridge zvt decode/encode`) and test tooling.
// Amounts appear as minor units plus currency, result codes with their text, card type with
// the Paybridge card brand, masked PAN only, and the TLV container as a tree.

#include <string>

#include <boost/json/value.hpp>

#include "protocol/core/expected.hpp"
#include "protocol/zvt/message.hpp"

namespace pb::zvt {

boost::json::value to_json(const Message& m);
/// Builds a message from the JSON shape to_json produces; the error says which key is wrong.
Expected<Message, std::string> message_from_json(const boost::json::value& v);

}  // namespace pb::zvt
