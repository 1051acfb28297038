#include "adapters/serial_ports.hpp"

#include <libserialport.h>

#include <algorithm>
#include <cstdio>

namespace pb::adapters {
namespace {

std::string str(const char* s) { return s ? std::string(s) : std::string(); }

std::string hex4(std::uint16_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04x", v);
    return buf;
}

std::optional<std::uint16_t> parse_hex4(std::string_view s) {
    if (s.size() != 4) return std::nullopt;
    std::uint16_t v = 0;
    for (char c : s) {
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return std::nullopt;
        v = static_cast<std::uint16_t>((v << 4) | d);
    }
    return v;
}

bool matches(const UsbIdentity& id, const SerialPortInfo& p) {
    return p.transport == PortTransport::usb && p.usb_vid == id.vid && p.usb_pid == id.pid &&
           (id.serial.empty() || p.usb_serial == id.serial);
}

std::string identity_of(const SerialPortInfo& p) {
    if (!p.usb_vid || !p.usb_pid) return {};
    return UsbIdentity{*p.usb_vid, *p.usb_pid, p.usb_serial}.to_string();
}

}  // namespace

std::string_view transport_name(PortTransport t) {
    switch (t) {
        case PortTransport::native: return "native";
        case PortTransport::usb: return "usb";
        case PortTransport::bluetooth: return "bluetooth";
    }
    return "?";
}

Expected<std::vector<SerialPortInfo>, std::string> list_serial_ports() {
    sp_port** list = nullptr;
    const sp_return rc = sp_list_ports(&list);
    if (rc != SP_OK) {
        char* msg = sp_last_error_message();
        std::string text = "listing serial ports failed: " + (msg ? str(msg) : std::to_string(rc));
        if (msg) sp_free_error_message(msg);
        return unexpected(text);
    }
    std::vector<SerialPortInfo> ports;
    for (sp_port** p = list; p && *p; ++p) {
        SerialPortInfo info;
        info.path = str(sp_get_port_name(*p));
        info.description = str(sp_get_port_description(*p));
        switch (sp_get_port_transport(*p)) {
            case SP_TRANSPORT_USB: info.transport = PortTransport::usb; break;
            case SP_TRANSPORT_BLUETOOTH: info.transport = PortTransport::bluetooth; break;
            default: info.transport = PortTransport::native; break;
        }
        if (info.transport == PortTransport::usb) {
            int vid = 0, pid = 0;
            if (sp_get_port_usb_vid_pid(*p, &vid, &pid) == SP_OK) {
                info.usb_vid = static_cast<std::uint16_t>(vid);
                info.usb_pid = static_cast<std::uint16_t>(pid);
            }
            info.usb_serial = str(sp_get_port_usb_serial(*p));
            info.usb_manufacturer = str(sp_get_port_usb_manufacturer(*p));
            info.usb_product = str(sp_get_port_usb_product(*p));
        }
        ports.push_back(std::move(info));
    }
    sp_free_port_list(list);
    std::sort(ports.begin(), ports.end(), [](auto& a, auto& b) { return a.path < b.path; });
    return ports;
}

std::string UsbIdentity::to_string() const {
    std::string s = "usb:" + hex4(vid) + ":" + hex4(pid);
    if (!serial.empty()) s += ":" + serial;
    return s;
}

bool is_usb_identity(std::string_view text) { return text.substr(0, 4) == "usb:"; }

Expected<UsbIdentity, std::string> parse_usb_identity(std::string_view text) {
    const std::string quoted = "'" + std::string(text) + "'";
    if (!is_usb_identity(text))
        return unexpected(quoted + " is not a USB identity (expected usb:VID:PID[:SERIAL])");
    std::string_view rest = text.substr(4);
    const auto c1 = rest.find(':');
    if (c1 == std::string_view::npos)
        return unexpected(quoted + ": missing product id (expected usb:VID:PID[:SERIAL])");
    const auto vid = parse_hex4(rest.substr(0, c1));
    if (!vid) return unexpected(quoted + ": vendor id must be 4 hex digits, e.g. 0403");
    rest = rest.substr(c1 + 1);
    const auto c2 = rest.find(':');
    const auto pid = parse_hex4(rest.substr(0, c2));
    if (!pid) return unexpected(quoted + ": product id must be 4 hex digits, e.g. 6001");
    UsbIdentity id{*vid, *pid, {}};
    if (c2 != std::string_view::npos) {
        id.serial = std::string(rest.substr(c2 + 1));
        if (id.serial.empty()) return unexpected(quoted + ": empty serial number after the last ':'");
    }
    return id;
}

Expected<std::string, std::string> resolve_usb_identity(const UsbIdentity& id,
                                                        const std::vector<SerialPortInfo>& ports) {
    std::vector<const SerialPortInfo*> hits;
    for (const auto& p : ports)
        if (matches(id, p)) hits.push_back(&p);
    if (hits.size() == 1) return hits.front()->path;
    if (hits.empty()) {
        std::string known;
        for (const auto& p : ports) {
            const std::string ident = identity_of(p);
            if (ident.empty()) continue;
            known += (known.empty() ? "" : ", ") + ident + " (" + p.path + ")";
        }
        return unexpected("no serial port matches " + id.to_string() +
                          (known.empty() ? "; no USB serial ports found" : "; USB ports present: " + known));
    }
    std::string paths;
    for (const auto* p : hits) paths += (paths.empty() ? "" : ", ") + p->path;
    return unexpected(id.to_string() + " is ambiguous (" + paths + "); add the serial number: usb:VID:PID:SERIAL");
}

Expected<std::string, std::string> resolve_usb_identity(const UsbIdentity& id) {
    auto ports = list_serial_ports();
    if (!ports) return unexpected(ports.error());
    return resolve_usb_identity(id, *ports);
}

}  // namespace pb::adapters
