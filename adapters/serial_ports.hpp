#pragma once
// Finding real serial ports (libserialport): a technician lists them to find the terminal,
// and the config can name a terminal by USB identity ("usb:0403:6001:A10KZ3Q9") instead of
// a device path that changes after a reboot or re-plug. libserialport is used only here;
// serial I/O goes through open_serial_link (it cannot open ptys, ../shared/stack.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/core/expected.hpp"

namespace pb::adapters {

enum class PortTransport : std::uint8_t { native, usb, bluetooth };

struct SerialPortInfo {
    std::string path;          // "/dev/ttyUSB0"
    std::string description;   // libserialport's human description
    PortTransport transport = PortTransport::native;
    std::optional<std::uint16_t> usb_vid, usb_pid;
    std::string usb_serial, usb_manufacturer, usb_product;
};

std::string_view transport_name(PortTransport t);  // "native", "usb", "bluetooth"

/// The ports the system knows, sorted by path. Error text when the listing itself failed.
Expected<std::vector<SerialPortInfo>, std::string> list_serial_ports();

/// "usb:VID:PID[:SERIAL]", VID and PID as 4 hex digits (case-insensitive).
struct UsbIdentity {
    std::uint16_t vid = 0;
    std::uint16_t pid = 0;
    std::string serial;  // empty: any serial number
    std::string to_string() const;  // "usb:0403:6001:A10KZ3Q9"
    friend bool operator==(const UsbIdentity&, const UsbIdentity&) = default;
};

/// True when `text` starts with "usb:" (a device given by identity rather than path).
bool is_usb_identity(std::string_view text);
Expected<UsbIdentity, std::string> parse_usb_identity(std::string_view text);

/// The one port in `ports` with that identity; errors say "no port ..." (listing what is
/// there) or "... is ambiguous" (add the serial number).
Expected<std::string, std::string> resolve_usb_identity(const UsbIdentity& id,
                                                        const std::vector<SerialPortInfo>& ports);
/// Lists the ports and resolves `id` against them.
Expected<std::string, std::string> resolve_usb_identity(const UsbIdentity& id);

}  // namespace pb::adapters
