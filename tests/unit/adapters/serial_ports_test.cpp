// USB identities of serial ports, and resolving one against a port list.
#include "adapters/serial_ports.hpp"

#include <gtest/gtest.h>

namespace pb::adapters {
namespace {

SerialPortInfo native(std::string path) {
    SerialPortInfo p;
    p.path = std::move(path);
    return p;
}

SerialPortInfo usb(std::string path, std::uint16_t vid, std::uint16_t pid, std::string serial) {
    SerialPortInfo p;
    p.path = std::move(path);
    p.transport = PortTransport::usb;
    p.usb_vid = vid;
    p.usb_pid = pid;
    p.usb_serial = std::move(serial);
    return p;
}

TEST(UsbIdentity, ParsesVidPidAndOptionalSerial) {
    auto a = parse_usb_identity("usb:0403:6001");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(*a, (UsbIdentity{0x0403, 0x6001, ""}));
    auto b = parse_usb_identity("usb:0B00:0a3F:A10KZ3Q9");
    ASSERT_TRUE(b) << b.error();
    EXPECT_EQ(*b, (UsbIdentity{0x0b00, 0x0a3f, "A10KZ3Q9"}));
    EXPECT_EQ(b->to_string(), "usb:0b00:0a3f:A10KZ3Q9");
    // A serial number may itself contain ':'.
    auto c = parse_usb_identity("usb:1a86:7523:12:34");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->serial, "12:34");
}

TEST(UsbIdentity, RejectsMalformedWithAClearMessage) {
    for (const char* bad : {"usb:", "usb:0403", "usb:403:6001", "usb:0403:60011", "usb:04g3:6001",
                            "usb:0403:6001:", "tty:0403:6001", "/dev/ttyUSB0", ""}) {
        auto r = parse_usb_identity(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_NE(r.error().find("'"), std::string::npos) << r.error();
        }
    }
    EXPECT_NE(parse_usb_identity("usb:04g3:6001").error().find("vendor id"), std::string::npos);
    EXPECT_NE(parse_usb_identity("usb:0403:xx").error().find("product id"), std::string::npos);
    EXPECT_TRUE(is_usb_identity("usb:0403:6001"));
    EXPECT_FALSE(is_usb_identity("/dev/ttyS0"));
}

TEST(UsbIdentity, ResolvesToTheOneMatchingPort) {
    const std::vector<SerialPortInfo> ports = {
        native("/dev/ttyS0"),
        usb("/dev/ttyUSB0", 0x0403, 0x6001, "AAA"),
        usb("/dev/ttyUSB1", 0x0403, 0x6001, "BBB"),
        usb("/dev/ttyACM0", 0x1a86, 0x7523, "")};
    auto r = resolve_usb_identity({0x0403, 0x6001, "BBB"}, ports);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(*r, "/dev/ttyUSB1");
    r = resolve_usb_identity({0x1a86, 0x7523, ""}, ports);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "/dev/ttyACM0");

    auto amb = resolve_usb_identity({0x0403, 0x6001, ""}, ports);
    ASSERT_FALSE(amb);
    EXPECT_NE(amb.error().find("ambiguous"), std::string::npos);
    EXPECT_NE(amb.error().find("/dev/ttyUSB0, /dev/ttyUSB1"), std::string::npos) << amb.error();

    auto none = resolve_usb_identity({0x0403, 0x6001, "CCC"}, ports);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().find("usb:0403:6001:AAA (/dev/ttyUSB0)"), std::string::npos) << none.error();

    auto empty = resolve_usb_identity({0x0403, 0x6001, ""}, {});
    EXPECT_NE(empty.error().find("no USB serial ports"), std::string::npos);
}

TEST(SerialPorts, ListingWorksOnThisMachine) {
    // Build machines have no USB adapters; the call must still succeed and be sorted.
    auto ports = list_serial_ports();
    ASSERT_TRUE(ports) << ports.error();
    for (std::size_t i = 1; i < ports->size(); ++i) EXPECT_LE((*ports)[i - 1].path, (*ports)[i].path);
}

}  // namespace
}  // namespace pb::adapters
