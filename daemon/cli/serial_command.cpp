// `paybridge serial list|resolve`: find the terminal's serial port and the USB identity to
// put in the config instead of a device path that changes after a reboot (issue 5).
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "adapters/serial_ports.hpp"
#include "daemon/cli/command.hpp"

namespace pb::cli {
namespace {

struct SerialOptions {
    bool json = false;
    std::string identity;
};

std::string usb_identity(const adapters::SerialPortInfo& p) {
    if (!p.usb_vid || !p.usb_pid) return {};
    return adapters::UsbIdentity{*p.usb_vid, *p.usb_pid, p.usb_serial}.to_string();
}

boost::json::object port_json(const adapters::SerialPortInfo& p) {
    boost::json::object o{{"path", p.path},
                          {"transport", std::string(adapters::transport_name(p.transport))},
                          {"description", p.description}};
    if (p.transport == adapters::PortTransport::usb) {
        if (p.usb_vid) o["usb_vendor_id"] = *p.usb_vid;
        if (p.usb_pid) o["usb_product_id"] = *p.usb_pid;
        o["usb_serial"] = p.usb_serial;
        o["usb_manufacturer"] = p.usb_manufacturer;
        o["usb_product"] = p.usb_product;
        o["usb_identity"] = usb_identity(p);
    }
    return o;
}

void print_table(const std::vector<adapters::SerialPortInfo>& ports) {
    if (ports.empty()) {
        std::cout << "no serial ports found\n";
        return;
    }
    const std::vector<std::string> head = {"PATH", "TRANSPORT", "USB IDENTITY", "MANUFACTURER", "DESCRIPTION"};
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : ports)
        rows.push_back({p.path, std::string(adapters::transport_name(p.transport)), usb_identity(p),
                        p.usb_manufacturer, p.usb_product.empty() ? p.description : p.usb_product});
    std::vector<std::size_t> width(head.size());
    for (std::size_t c = 0; c < head.size(); ++c) {
        width[c] = head[c].size();
        for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
    }
    auto line = [&](const std::vector<std::string>& r) {
        std::string s;
        for (std::size_t c = 0; c < r.size(); ++c) {
            s += r[c];
            if (c + 1 < r.size()) s += std::string(width[c] - r[c].size() + 2, ' ');
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        std::cout << s << "\n";
    };
    line(head);
    for (const auto& r : rows) line(r);
}

void run_list(const SerialOptions& opt) {
    auto ports = adapters::list_serial_ports();
    if (!ports) throw Failure{1, ports.error()};
    if (opt.json) {
        boost::json::array a;
        for (const auto& p : *ports) a.push_back(port_json(p));
        std::cout << boost::json::serialize(a) << "\n";
    } else {
        print_table(*ports);
    }
}

void run_resolve(const SerialOptions& opt) {
    auto id = adapters::parse_usb_identity(opt.identity);
    if (!id) throw Failure{2, id.error()};
    auto path = adapters::resolve_usb_identity(*id);
    if (!path) throw Failure{1, path.error()};
    std::cout << *path << "\n";
}

void register_serial(CLI::App& app) {
    auto opt = std::make_shared<SerialOptions>();
    auto* serial = app.add_subcommand("serial", "find serial ports and the terminal's USB identity");
    serial->require_subcommand(1);

    auto* list = serial->add_subcommand(
        "list", "list serial ports with USB vendor/product id, serial number and description");
    list->add_flag("--json", opt->json, "one JSON array instead of a table");
    list->callback([opt] { run_list(*opt); });

    auto* resolve = serial->add_subcommand(
        "resolve", "print the device path of the port with a USB identity (as used in the config)");
    resolve->add_option("identity", opt->identity, "usb:VID:PID[:SERIAL], e.g. usb:0403:6001:A10KZ3Q9")
        ->required();
    resolve->callback([opt] { run_resolve(*opt); });
}

const Registrar registrar{40, register_serial};

}  // namespace
}  // namespace pb::cli
