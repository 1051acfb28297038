#include "daemon/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace pb::daemon {
namespace {

// Line numbers matter in these tests: every error must name its key and position.
constexpr std::string_view kGood = R"([erp]
router = "tcp://127.0.0.1:7600"
pub = "tcp://127.0.0.1:7601"

[ledger]
path = "/var/lib/paybridge/ledger.sqlite"
timezone = "Europe/Stockholm"

[[terminal]]
id = "kassa1"
transport = "tcp"
host = "192.168.1.50"
password = "000000"
currency = "SEK"
register = "reg1"

[[terminal]]
id = "verkstad"
transport = "serial"
device = "usb:0403:6001:A12B"
baud = 115200
framing = "8N1"
password = "123456"
currency = "EUR"
register = "reg2"
receipt_printing = "terminal"
t3_ms = 6000

[[issuer]]
id = "volvo_card"
name = "Volvo Card"
account = "1581"
bins = ["627455", "627460-627469"]

[[operator]]
id = "anna"
name = "Anna"
rights = ["take_card", "take_cash"]
)";

Config parse_ok(std::string_view text) {
    auto c = parse_config(text, "test.toml");
    if (!c) {
        for (auto& e : c.error()) ADD_FAILURE() << e.to_string();
        return {};
    }
    return *c;
}

ConfigErrors parse_bad(std::string_view text) {
    auto c = parse_config(text, "test.toml");
    EXPECT_FALSE(c.has_value());
    return c ? ConfigErrors{} : c.error();
}

std::string joined(const ConfigErrors& errors) {
    std::string s;
    for (auto& e : errors) s += e.to_string() + "\n";
    return s;
}

/// The minimal valid config with `terminal_body` as its only [[terminal]] (starting on line 5).
std::string with_terminal(std::string_view terminal_body) {
    return "[ledger]\npath = \"/tmp/l.sqlite\"\n\n[[terminal]]\n" + std::string(terminal_body);
}

TEST(Config, GoodFileParsesWithDefaultsAndTypes) {
    Config c = parse_ok(kGood);
    ASSERT_EQ(c.terminals.size(), 2u);
    const auto& k = c.terminals[0];
    EXPECT_EQ(k.id, "kassa1");
    ASSERT_TRUE(std::holds_alternative<TcpTransport>(k.transport));
    EXPECT_EQ(std::get<TcpTransport>(k.transport).port, 20007);
    EXPECT_EQ(k.currency.numeric, 752);
    EXPECT_EQ(k.timeouts.t1.count(), 200);
    EXPECT_EQ(k.timeouts.t2.count(), 5000);
    EXPECT_EQ(k.timeouts.t3.count(), 5000);
    EXPECT_EQ(k.timeouts.t4.count(), 180000);
    EXPECT_EQ(k.receipt_printing, ReceiptPrinting::ecr);

    const auto& v = c.terminals[1];
    const auto& s = std::get<SerialTransport>(v.transport);
    EXPECT_EQ(s.baud, 115200u);
    EXPECT_EQ(s.framing, Framing::n8_1);
    EXPECT_EQ(std::get<UsbIdentity>(s.device), (UsbIdentity{0x0403, 0x6001, "A12B"}));
    EXPECT_EQ(v.timeouts.t3.count(), 6000);
    EXPECT_EQ(v.receipt_printing, ReceiptPrinting::terminal);

    ASSERT_EQ(c.issuers.size(), 1u);
    ASSERT_EQ(c.issuers[0].bins.size(), 2u);
    EXPECT_EQ(c.issuers[0].bins[1].first, "627460");
    EXPECT_EQ(c.issuers[0].bins[1].last, "627469");
    EXPECT_EQ(c.operators[0].rights, (std::vector<std::string>{"take_card", "take_cash"}));
    EXPECT_EQ(c.erp.router_endpoint, "tcp://127.0.0.1:7600");
    EXPECT_TRUE(c.http.enabled);
    EXPECT_EQ(c.http.listen_port, 7602);
    EXPECT_EQ(summary(c).substr(0, 30), "2 terminals (kassa1, verkstad)");
}

TEST(Config, SerialDefaultsAre9600And8N2) {
    Config c = parse_ok(with_terminal(
        "id = \"t\"\ntransport = \"serial\"\ndevice = \"/dev/ttyUSB0\"\npassword = \"000000\"\n"
        "currency = \"EUR\"\nregister = \"r\"\n"));
    const auto& s = std::get<SerialTransport>(c.terminals.at(0).transport);
    EXPECT_EQ(s.baud, 9600u);
    EXPECT_EQ(s.framing, Framing::n8_2);
    EXPECT_EQ(std::get<std::string>(s.device), "/dev/ttyUSB0");
}

TEST(Config, BadPortNamesKeyLineAndColumn) {
    std::string text(kGood);
    text.replace(text.find("host = \"192.168.1.50\"\n"), 22, "host = \"192.168.1.50\"\nport = 70000\n");
    auto errors = parse_bad(text);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].to_string(), "terminal[0].port (line 13, column 8): must be 1..65535, got 70000");
}

TEST(Config, UnknownKeyIsAnErrorWithSuggestion) {
    auto errors = parse_bad(with_terminal(
        "id = \"t\"\ntransport = \"tcp\"\nhost = \"h\"\nprot = 20007\npassword = \"000000\"\n"
        "currency = \"EUR\"\nregister = \"r\"\n"));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].key, "terminal[0].prot");
    EXPECT_EQ(errors[0].line, 8u);
    EXPECT_NE(errors[0].message.find("unknown key"), std::string::npos);
    EXPECT_NE(errors[0].message.find("did you mean \"port\""), std::string::npos);
}

TEST(Config, UnknownTopLevelTableIsAnError) {
    auto errors = parse_bad("[ledger]\npath = \"x\"\n\n[legder]\npath = \"y\"\n");
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].key, "legder");
    EXPECT_EQ(errors[0].line, 4u);
}

TEST(Config, BadCurrency) {
    std::string text(kGood);
    text.replace(text.find("currency = \"EUR\""), 16, "currency = \"EUX\"");
    auto errors = parse_bad(text);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].key, "terminal[1].currency");
    EXPECT_EQ(errors[0].line, 24u);
    EXPECT_EQ(errors[0].column, 12u);
    EXPECT_NE(errors[0].message.find("EUX"), std::string::npos);
}

TEST(Config, DuplicateTerminalId) {
    std::string text(kGood);
    text.replace(text.find("id = \"verkstad\""), 15, "id = \"kassa1\"");
    auto errors = parse_bad(text);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].key, "terminal[1].id");
    EXPECT_EQ(errors[0].line, 18u);
    EXPECT_NE(errors[0].message.find("duplicate terminal id \"kassa1\""), std::string::npos);
}

TEST(Config, MissingTransportPointsAtTheTable) {
    auto errors = parse_bad(with_terminal("id = \"t\"\npassword = \"000000\"\ncurrency = \"EUR\"\nregister = \"r\"\n"));
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].key, "terminal[0].transport");
    EXPECT_EQ(errors[0].line, 4u);  // the [[terminal]] header
    EXPECT_NE(errors[0].message.find("missing"), std::string::npos);
}

TEST(Config, BadBaud) {
    std::string text(kGood);
    text.replace(text.find("baud = 115200"), 13, "baud = 14400");
    auto errors = parse_bad(text);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].to_string(),
              "terminal[1].baud (line 21, column 8): must be one of 9600, 19200, 38400, 57600, 115200, got 14400");
}

TEST(Config, BadPasswordNeverEchoesTheValue) {
    std::string text(kGood);
    text.replace(text.find("password = \"123456\""), 19, "password = \"12345x\"");
    auto errors = parse_bad(text);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_EQ(errors[0].key, "terminal[1].password");
    EXPECT_EQ(errors[0].line, 23u);
    EXPECT_EQ(errors[0].to_string().find("12345x"), std::string::npos);

    text.replace(text.find("password = \"12345x\""), 19, "password = 123456");
    errors = parse_bad(text);
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_NE(errors[0].message.find("must be a string of 6 digits"), std::string::npos);
}

TEST(Config, UnreadableFile) {
    auto c = load_config("/nonexistent/paybridged.toml");
    ASSERT_FALSE(c.has_value());
    ASSERT_EQ(c.error().size(), 1u);
    EXPECT_NE(c.error()[0].to_string().find("cannot read /nonexistent/paybridged.toml"), std::string::npos);
}

TEST(Config, SyntaxErrorHasPosition) {
    auto errors = parse_bad("[ledger]\npath = \"x\"\nfoo = = 1\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].line, 3u);
    EXPECT_NE(errors[0].message.find("TOML syntax"), std::string::npos);
}

TEST(Config, EveryErrorIsReportedNotJustTheFirst) {
    auto errors = parse_bad(with_terminal(
        "id = \"t\"\ntransport = \"tcp\"\nhost = \"h\"\nport = 0\npassword = \"1\"\ncurrency = \"XXX\"\n"
        "register = \"r\"\nbaud = 9600\n"));
    ASSERT_EQ(errors.size(), 4u) << joined(errors);
    EXPECT_EQ(errors[0].key, "terminal[0].port");
    EXPECT_EQ(errors[1].key, "terminal[0].password");
    EXPECT_EQ(errors[2].key, "terminal[0].currency");
    EXPECT_EQ(errors[3].key, "terminal[0].baud");  // only applies to serial
    EXPECT_EQ(errors[3].line, 12u);
}

TEST(Config, OtherSectionsAreValidated) {
    auto errors = parse_bad(R"([ledger]
path = "x"
timezone = "Mars/Olympus"
day_starts_at = "25:00"
[log]
level = "loud"
[http]
listen = "127.0.0.1"
[erp]
router = "http://x"
[[issuer]]
id = "own"
name = "Own"
account = "1580"
bins = ["62745x", "6275-627"]
[[operator]]
id = "bo"
rights = ["take_everything"]
)");
    std::vector<std::string> keys;
    for (auto& e : errors) keys.push_back(e.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"ledger.timezone", "ledger.day_starts_at", "log.level", "http.listen",
                                              "erp.router", "issuer[0].bins[0]", "issuer[0].bins[1]",
                                              "operator[0].rights[0]"}))
        << joined(errors);
}

TEST(Config, CurveKeysAreCheckedAndTheSecretIsRead) {
    auto dir = std::filesystem::temp_directory_path() / ("pb_cfg_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
    std::ofstream(dir / "erp.key") << secret << "\n";
    const std::string pub = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    std::string text = "[erp]\n[erp.curve]\nserver_secret_key_file = \"erp.key\"\nallowed_clients = [\"" + pub +
                       "\"]\n[ledger]\npath = \"x\"\n";
    std::ofstream(dir / "paybridged.toml") << text;
    auto c = load_config((dir / "paybridged.toml").string());
    ASSERT_TRUE(c.has_value()) << (c ? "" : joined(c.error()));
    ASSERT_TRUE(c->erp.curve.has_value());
    EXPECT_EQ(c->erp.curve->server_secret_key.reveal(), secret);
    EXPECT_EQ(c->erp.curve->allowed_clients, std::vector<std::string>{pub});

    std::ofstream(dir / "paybridged.toml") << "[erp.curve]\nserver_secret_key_file = \"missing.key\"\n"
                                              "allowed_clients = [\"short\"]\n[ledger]\npath = \"x\"\n";
    auto bad = load_config((dir / "paybridged.toml").string());
    ASSERT_FALSE(bad.has_value());
    ASSERT_EQ(bad.error().size(), 2u) << joined(bad.error());
    EXPECT_EQ(bad.error()[0].key, "erp.curve.server_secret_key_file");
    EXPECT_EQ(bad.error()[1].key, "erp.curve.allowed_clients[0]");
    std::filesystem::remove_all(dir);
}

TEST(Config, RedactedDumpHidesSecrets) {
    Config c = parse_ok(kGood);
    std::string dump = redacted_dump(c);
    EXPECT_EQ(dump.find("123456"), std::string::npos);
    EXPECT_NE(dump.find("terminal[1].password = \"***\""), std::string::npos);
    EXPECT_NE(dump.find("terminal[1].transport = \"serial usb:0403:6001:A12B 115200 8N1\""), std::string::npos);
    EXPECT_NE(dump.find("terminal[0].t4_ms = 180000"), std::string::npos);
}

TEST(Config, ExampleFileIsValid) {
    auto c = load_config(PB_SOURCE_DIR "/examples/paybridged.toml");
    ASSERT_TRUE(c.has_value()) << (c ? "" : joined(c.error()));
    EXPECT_FALSE(c->terminals.empty());
}

}  // namespace
}  // namespace pb::daemon
