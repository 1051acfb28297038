// `paybridge zvt decode|encode`: the technician's view of a ZVT trace (issue 2).
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "daemon/cli/command.hpp"
#include "protocol/zvt/json.hpp"
#include "protocol/zvt/message.hpp"
#include "protocol/zvt/serial_frame.hpp"

namespace pb::cli {
namespace {

struct ZvtOptions {
    std::vector<std::string> hex;
    bool serial = false;
    std::string reply_to;
    std::string json;
};

boost::json::object error_json(const zvt::DecodeError& e) {
    return {{"error", zvt::error_name(e.code)}, {"offset", e.offset},
            {"message", e.to_string()}};
}

// Decodes one APDU (bytes already unframed); prints its JSON; false on a decode error.
bool print_apdu(ByteView apdu_bytes, zvt::DecodeContext ctx, boost::json::object extra) {
    const auto apdu = zvt::decode_apdu(apdu_bytes);
    if (!apdu) {
        extra["error"] = error_json(apdu.error());
        std::cout << boost::json::serialize(extra) << "\n";
        return false;
    }
    const auto m = zvt::decode_message(*apdu, ctx);
    if (!m) {
        extra["command"] = zvt::command_name(zvt::decode_message(zvt::Apdu{apdu->cls, apdu->instr, {}}, ctx)
                                                 .value_or(zvt::Message{})
                                                 .command);
        extra["error"] = error_json(m.error());
        std::cout << boost::json::serialize(extra) << "\n";
        return false;
    }
    auto o = zvt::to_json(*m).as_object();
    for (auto& kv : extra) o[kv.key()] = kv.value();
    std::cout << boost::json::serialize(o) << "\n";
    return true;
}

void run_decode(const ZvtOptions& opt) {
    zvt::DecodeContext ctx;
    if (!opt.reply_to.empty()) {
        const auto c = zvt::command_from_name(opt.reply_to);
        if (!c) throw Failure{2, "--reply-to: unknown command '" + opt.reply_to + "' (e.g. status_enquiry)"};
        ctx.in_reply_to = *c;
    }
    bool all_ok = true;
    for (std::size_t i = 0; i < opt.hex.size(); ++i) {
        const auto bytes = from_hex(opt.hex[i]);
        if (!bytes || bytes->empty())
            throw Failure{2, "argument " + std::to_string(i + 1) + " is not hex: '" + opt.hex[i] + "'"};
        if (!opt.serial) {
            all_ok &= print_apdu(*bytes, ctx, {});
            continue;
        }
        // A serial trace may hold several frames and ACK/NAK bytes: report each.
        ByteView rest = *bytes;
        while (!rest.empty()) {
            const auto d = zvt::decode_serial(rest);
            if (std::holds_alternative<zvt::NeedMore>(d.result)) {
                std::cout << boost::json::serialize(boost::json::object{
                                 {"error", {{"error", "frame_incomplete"},
                                            {"message", "serial frame is incomplete (" +
                                                            std::to_string(rest.size()) + " bytes)"}}}})
                          << "\n";
                all_ok = false;
                break;
            }
            if (std::holds_alternative<zvt::AckByte>(d.result)) {
                std::cout << R"({"transport":"ACK"})" << "\n";
            } else if (std::holds_alternative<zvt::NakByte>(d.result)) {
                std::cout << R"({"transport":"NAK"})" << "\n";
            } else if (const auto* e = std::get_if<zvt::DecodeError>(&d.result)) {
                std::cout << boost::json::serialize(boost::json::object{{"error", error_json(*e)}}) << "\n";
                all_ok = false;
            } else {
                const auto& f = std::get<zvt::SerialFrame>(d.result);
                all_ok &= print_apdu(f.apdu, ctx, {{"crc", "ok"}});
            }
            rest = rest.subspan(d.consumed);
        }
    }
    if (!all_ok) throw Failure{1, "some input did not decode (see the \"error\" objects above)"};
}

void run_encode(const ZvtOptions& opt) {
    boost::json::error_code ec;
    const auto v = boost::json::parse(opt.json, ec);
    if (ec) throw Failure{2, "JSON does not parse: " + ec.message()};
    const auto m = zvt::message_from_json(v);
    if (!m) throw Failure{2, "JSON is not a ZVT message: " + m.error()};
    Bytes wire = zvt::encode_apdu(zvt::encode_message(*m));
    if (opt.serial) wire = zvt::encode_serial_frame(wire);
    std::cout << to_hex(wire) << "\n";
}

void register_zvt(CLI::App& app) {
    auto opt = std::make_shared<ZvtOptions>();
    auto* zvt = app.add_subcommand("zvt", "decode and encode ZVT APDUs (technician tools)");
    zvt->require_subcommand(1);

    auto* dec = zvt->add_subcommand("decode", "print each APDU (hex) as one JSON object per line");
    dec->add_option("hex", opt->hex, "APDU as hex, e.g. \"04 0F 02 27 00\" (one argument per APDU)")
        ->required();
    dec->add_flag("--serial", opt->serial, "arguments are serial frames (DLE STX ... DLE ETX CRC); the CRC is checked");
    dec->add_option("--reply-to", opt->reply_to,
                    "command this answers, e.g. status_enquiry (a 06 0F after 05 01 has no BMPs)");
    dec->callback([opt] { run_decode(*opt); });

    auto* enc = zvt->add_subcommand("encode", "build an APDU from JSON (the shape decode prints)");
    enc->add_option("json", opt->json, "message as JSON, e.g. '{\"command\":\"authorisation\",\"fields\":{\"amount\":1234,\"currency\":978}}'")
        ->required();
    enc->add_flag("--serial", opt->serial, "wrap the APDU in a serial frame");
    enc->callback([opt] { run_encode(*opt); });
}

const Registrar registrar{20, register_zvt};

}  // namespace
}  // namespace pb::cli
