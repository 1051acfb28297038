#pragma once
// Named faults of the ZVT simulator (simulators/README.md, "Faults"). Set from the scenario
// file at start and through the control port at run time. One-shot faults carry a count and
// disarm after firing that many times; conditions (eod_required, busy, slow_*) hold until
// cleared.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/core/expected.hpp"

namespace pb::sim {

/// Points in a transaction where a drop or crash fault fires.
enum class FaultPoint : std::uint8_t {
    after_auth,         // transaction command received, nothing answered yet
    after_status_info,  // 04 0F sent, its acknowledgement not yet received
    before_completion,  // ECR acknowledged (transaction committed), 06 0F not yet sent
};
std::string_view fault_point_name(FaultPoint p);
std::optional<FaultPoint> fault_point_from_name(std::string_view name);

struct FaultSet {
    // Engine faults (decisions about what the terminal says).
    int drop_after_auth = 0;
    int drop_after_status_info = 0;
    int drop_before_completion = 0;
    int no_completion = 0;
    std::optional<FaultPoint> crash_at;
    int negative = 0;                   // next N commands answered 84 <negative_code> 00
    std::uint8_t negative_code = 0x83;  // function not possible
    bool eod_required = false;          // terminal status F0 until an end-of-day
    bool card_inserted = false;         // terminal status DC until 06 B0
    bool busy = false;                  // transaction commands refused with 84 9C 00
    // Transport faults (applied by the link shell, not the engine).
    std::chrono::milliseconds slow_message{0};  // before every message the PT sends
    std::chrono::milliseconds slow_byte{0};     // between the bytes the PT sends
    int corrupt_crc = 0;                        // serial: next N frames with a wrong CRC
    int nak = 0;                                // serial: NAK the next N frames received
    int garbage = 0;                            // next N frames preceded by garbage bytes

    /// Applies "name" or "name=value" (see README). Error text says what is wrong.
    Expected<void, std::string> set(std::string_view spec);
    /// Clears one fault by name, or all of them for an empty name.
    Expected<void, std::string> clear(std::string_view name = {});
    /// Active faults as "name" / "name=value" strings.
    std::vector<std::string> active() const;

    /// Consumes one firing of a counted fault; true if it fired.
    static bool take(int& counter) {
        if (counter <= 0) return false;
        --counter;
        return true;
    }
};

/// Every fault name the control port and scenario accept, for --help and `fault list`.
const std::vector<std::string_view>& fault_names();

}  // namespace pb::sim
