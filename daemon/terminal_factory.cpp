#include "daemon/terminal_factory.hpp"

#include "adapters/serial_ports.hpp"
#include "daemon/log.hpp"

namespace pb::daemon {

adapters::ZvtTerminalOptions terminal_options(const TerminalConfig& c) {
    adapters::ZvtTerminalOptions o;
    o.id = c.id;
    if (const auto* tcp = std::get_if<TcpTransport>(&c.transport)) {
        o.tcp_host = tcp->host;
        o.tcp_port = tcp->port;
    } else if (const auto* serial = std::get_if<SerialTransport>(&c.transport)) {
        if (const auto* path = std::get_if<std::string>(&serial->device)) {
            o.serial_device = *path;
        } else {
            const auto& usb = std::get<UsbIdentity>(serial->device);
            adapters::UsbIdentity id{usb.vendor_id, usb.product_id, usb.serial};
            auto resolved = adapters::resolve_usb_identity(id);
            if (resolved) {
                o.serial_device = *resolved;
                log::info("PB_SERIAL_RESOLVED", c.id + ": " + id.to_string() + " is " + *resolved);
            } else {
                log::error("PB_SERIAL_UNRESOLVED", c.id + ": " + resolved.error());
                o.serial_device = std::string();
            }
        }
        o.baud = serial->baud;
        o.stop_bits = serial->framing == Framing::n8_2 ? 2 : 1;
    }
    // The password is six decimal digits, sent as 3 bytes BCD (PA00P015 §1.2).
    std::uint32_t pw = 0;
    for (char ch : c.password.reveal()) pw = pw * 10 + static_cast<std::uint32_t>(ch - '0');
    o.ecr.password = pw;
    o.ecr.currency = c.currency.numeric;
    o.ecr.ecr_prints = c.receipt_printing == ReceiptPrinting::ecr;
    o.ecr.receipt_sync = c.receipt_sync;
    o.ecr.t3_ms = static_cast<std::uint32_t>(c.timeouts.t3.count());
    o.ecr.t4_ms = static_cast<std::uint32_t>(c.timeouts.t4.count());
    o.t1 = c.timeouts.t1;
    o.t2 = c.timeouts.t2;
    o.backoff_min = c.reconnect.initial;
    o.backoff_max = c.reconnect.max;
    return o;
}

std::unique_ptr<adapters::ZvtTerminal> make_zvt_terminal(boost::asio::any_io_executor ex, const TerminalConfig& config,
                                                         adapters::ZvtTerminalCallbacks callbacks) {
    return adapters::ZvtTerminal::create(std::move(ex), terminal_options(config), std::move(callbacks));
}

}  // namespace pb::daemon
