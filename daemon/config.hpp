#pragma once
// paybridged's typed configuration, read from TOML. Every field has a documented default
// (examples/paybridged.toml is the annotated reference). Loading validates everything and
// reports every error with its key path and source position; a Config that exists is valid.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocol/core/expected.hpp"
#include "protocol/core/money.hpp"

namespace pb::daemon {

/// A value that must never reach a log: the redacted dump shows it as "***".
class Secret {
public:
    Secret() = default;
    explicit Secret(std::string v) : value_(std::move(v)) {}
    const std::string& reveal() const { return value_; }
    bool empty() const { return value_.empty(); }
    friend bool operator==(const Secret&, const Secret&) = default;

private:
    std::string value_;
};

struct CurveConfig {
    std::string server_secret_key_file;        // file holding the Z85 server secret key (40 chars)
    Secret server_secret_key;                  // its content, read and checked at load time
    std::vector<std::string> allowed_clients;  // Z85 client public keys (40 chars each)
    friend bool operator==(const CurveConfig&, const CurveConfig&) = default;
};

struct ErpConfig {
    std::string router_endpoint = "tcp://127.0.0.1:7600";
    std::string pub_endpoint = "tcp://127.0.0.1:7601";
    std::optional<CurveConfig> curve;
    std::size_t max_message_bytes = 256 * 1024;
    friend bool operator==(const ErpConfig&, const ErpConfig&) = default;
};

struct TcpTransport {
    std::string host;
    std::uint16_t port = 20007;  // PA00P016: the usual ZVT-over-IP port
    friend bool operator==(const TcpTransport&, const TcpTransport&) = default;
};

/// A USB serial adapter named by identity, stable across reboots (issue 5), unlike /dev/ttyUSBn.
struct UsbIdentity {
    std::uint16_t vendor_id = 0;
    std::uint16_t product_id = 0;
    std::string serial;  // empty: any serial number
    friend bool operator==(const UsbIdentity&, const UsbIdentity&) = default;
};

enum class Framing : std::uint8_t { n8_2, n8_1 };  // PA00P015 §2: 8N2 by default

struct SerialTransport {
    std::variant<std::string, UsbIdentity> device;  // path, or "usb:VID:PID[:SERIAL]"
    std::uint32_t baud = 9600;
    Framing framing = Framing::n8_2;
    friend bool operator==(const SerialTransport&, const SerialTransport&) = default;
};

enum class ReceiptPrinting : std::uint8_t { ecr, terminal };

/// ZVT timers with the spec defaults: T1 (ACK wait on serial, PA00P015 §3.4), T2 (serial
/// repeat), T3 (answer to a command, PA00P016 §5.2.5), T4 (whole transaction, §5.2.6).
struct ZvtTimeouts {
    std::chrono::milliseconds t1{200};
    std::chrono::milliseconds t2{5000};
    std::chrono::milliseconds t3{5000};
    std::chrono::milliseconds t4{180000};
    friend bool operator==(const ZvtTimeouts&, const ZvtTimeouts&) = default;
};

struct Backoff {
    std::chrono::milliseconds initial{500};
    std::chrono::milliseconds max{30000};
    friend bool operator==(const Backoff&, const Backoff&) = default;
};

struct TerminalConfig {
    std::string id;
    std::string protocol = "zvt";
    std::variant<TcpTransport, SerialTransport> transport;
    Secret password;  // ZVT password: 6 digits
    Currency currency;
    std::string register_id;
    ReceiptPrinting receipt_printing = ReceiptPrinting::ecr;
    /// Mirror the last receipt number in TLV 1F1F (PA00P015 ch. 4), for terminals that
    /// support it: an unacknowledged transaction is then reversed by the next command.
    bool receipt_sync = false;
    ZvtTimeouts timeouts;
    Backoff reconnect;
    friend bool operator==(const TerminalConfig&, const TerminalConfig&) = default;
};

struct LedgerConfig {
    std::string path = "/var/lib/paybridge/ledger.sqlite";
    /// Business-day boundaries: an IANA zone name ("Europe/Stockholm") or a fixed offset.
    std::string timezone = "Europe/Stockholm";
    std::chrono::minutes day_starts_at{0};  // minutes after local midnight a business day starts
    friend bool operator==(const LedgerConfig&, const LedgerConfig&) = default;
};

struct BinRangeConfig {
    std::string first;  // "627455" or the ends of "627455-627459"
    std::string last;
    friend bool operator==(const BinRangeConfig&, const BinRangeConfig&) = default;
};

struct IssuerSeed {
    std::string id;
    std::string name;
    std::string account;
    std::vector<BinRangeConfig> bins;
    friend bool operator==(const IssuerSeed&, const IssuerSeed&) = default;
};

struct OperatorSeed {
    std::string id;
    std::string name;
    std::vector<std::string> rights;  // ledger::right_id names: take_card, take_cash, ...
    friend bool operator==(const OperatorSeed&, const OperatorSeed&) = default;
};

enum class LogLevel : std::uint8_t { trace, debug, info, warn, error };

struct LogConfig {
    LogLevel level = LogLevel::info;
    /// true: journald when started by systemd (JOURNAL_STREAM set), stderr otherwise.
    bool journald = true;
    friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

struct HttpConfig {
    bool enabled = true;
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 7602;
    friend bool operator==(const HttpConfig&, const HttpConfig&) = default;
};

/// One upstream service (protocol/upstream/README.md §1): [upstream.commitment] etc.
struct UpstreamServiceConfig {
    std::string url;               // https://...; http:// only for loopback or allow_plain_http
    std::string token;             // bearer token (secret: redacted in dumps)
    std::string client_cert;       // PEM file: TLS client certificate (with client_key)
    std::string client_key;
    std::string ca_file;           // "" = system trust store
    bool verify_peer = true;
    bool allow_plain_http = false;
    std::chrono::milliseconds timeout{5000};  // every call's deadline
    friend bool operator==(const UpstreamServiceConfig&, const UpstreamServiceConfig&) = default;
};

/// [upstream.benefit]: the benefit-payment service (README §5) and the shop's rules for its
/// vouchers, measured from the voucher's purchase time (seed benefit-payment-sv defaults).
struct BenefitServiceConfig {
    UpstreamServiceConfig service;
    std::string provider_id;                       // the shop's id at the benefit service (required)
    std::chrono::minutes valid{15};                // valid_minutes: a voucher is redeemable this long
    std::chrono::minutes cancel{60};               // cancel_minutes: payment.reverse -> cancel
    std::chrono::hours credit{24 * 7};             // credit_days: payment.refund -> credit
    friend bool operator==(const BenefitServiceConfig&, const BenefitServiceConfig&) = default;
};

/// [upstream.outbox]: store and forward (README §6).
struct OutboxConfig {
    std::chrono::milliseconds retry_initial{1000};
    std::chrono::milliseconds retry_max{300000};
    std::chrono::hours dead_after{72};
    friend bool operator==(const OutboxConfig&, const OutboxConfig&) = default;
};

/// [upstream.ereceipt]: the e-receipt service (protocol/upstream/README.md §5) and the rules
/// of e-receipts (protocol/erp/README.md §7): the service's keys plus these.
struct EreceiptConfig {
    UpstreamServiceConfig service;
    std::string public_url;      // the customer's link is public_url + receipt id; default url + "/r/"
    std::string jurisdiction = "SE";  // ISO 3166 alpha-2; "NO" forbids the waste-basket
    bool email_link = false;     // email_mode = "link" (default "attachment": the PDF attached)
    std::string shop_name;       // the receipt's first line, when set
    std::chrono::milliseconds qr_display{60000};      // qr_display_ms: from the first line
    std::chrono::milliseconds choice_timeout{30000};  // choice_timeout_ms: then a QR receipt
    int retention_days = 30;
    /// The waste-basket is forbidden by law in these jurisdictions (seed e-receipt-sv: Norway).
    bool waste_basket_allowed() const { return jurisdiction != "NO"; }
    friend bool operator==(const EreceiptConfig&, const EreceiptConfig&) = default;
};

/// Upstream services (issue 7). A service without a section is not configured: its ERP
/// requests are answered 2014 not_supported.
struct UpstreamConfig {
    std::optional<UpstreamServiceConfig> commitment;
    std::optional<BenefitServiceConfig> benefit;
    std::optional<EreceiptConfig> ereceipt;
    OutboxConfig outbox;
    friend bool operator==(const UpstreamConfig&, const UpstreamConfig&) = default;
};

/// [commitment_cards]: which cards a terminal may read for the commitment flow (ZVT Read
/// Card, erp `card.read`). Without `iins` no card read is accepted as a commitment card.
struct CommitmentCardsConfig {
    std::vector<std::string> iins;   // card-number prefixes (digits) of the commitment cards
    std::string id_prefix;           // prepended to the card number: the id the service knows
    unsigned read_timeout_s = 30;    // how long the terminal waits for the card (1..120)
    friend bool operator==(const CommitmentCardsConfig&, const CommitmentCardsConfig&) = default;
};

struct Config {
    std::string source;  // the file it was read from
    ErpConfig erp;
    std::vector<TerminalConfig> terminals;
    LedgerConfig ledger;
    std::vector<IssuerSeed> issuers;
    std::vector<OperatorSeed> operators;
    LogConfig log;
    HttpConfig http;
    UpstreamConfig upstream;
    CommitmentCardsConfig commitment_cards;

    const TerminalConfig* terminal(std::string_view id) const;
    friend bool operator==(const Config&, const Config&) = default;
};

/// One validation failure: "terminal[1].port (line 14, column 8): must be 1..65535, got 70000".
struct ConfigError {
    std::string key;  // "terminal[1].port"; "" for the file as a whole
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::string message;

    std::string to_string() const;
};

using ConfigErrors = std::vector<ConfigError>;

/// Parses and validates TOML text; `source` names it in messages. All errors, never the first.
Expected<Config, ConfigErrors> parse_config(std::string_view toml_text, std::string source = "<text>");
/// Reads `path` and parses it; an unreadable file is one error with an empty key.
Expected<Config, ConfigErrors> load_config(const std::string& path);

/// Every value, secrets as "***", one "key = value" per line: for the log at start and reload.
std::string redacted_dump(const Config& config);
/// "3 terminals (kasse1, kasse2, werkstatt), ERP tcp://127.0.0.1:7600, ledger /var/lib/..."
std::string summary(const Config& config);

std::string_view to_string(LogLevel level);
std::string transport_description(const TerminalConfig& terminal);

}  // namespace pb::daemon
