#include "simulators/zvt/faults.hpp"

#include <charconv>
#include <cstdio>

namespace pb::sim {

namespace {

std::optional<long> parse_number(std::string_view text, int base = 10) {
    long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (ec != std::errc{} || end != text.data() + text.size() || v < 0) return std::nullopt;
    return v;
}

}  // namespace

std::string_view fault_point_name(FaultPoint p) {
    switch (p) {
        case FaultPoint::after_auth: return "after_auth";
        case FaultPoint::after_status_info: return "after_status_info";
        case FaultPoint::before_completion: return "before_completion";
    }
    return "?";
}

std::optional<FaultPoint> fault_point_from_name(std::string_view name) {
    for (auto p : {FaultPoint::after_auth, FaultPoint::after_status_info,
                   FaultPoint::before_completion}) {
        if (fault_point_name(p) == name) return p;
    }
    return std::nullopt;
}

const std::vector<std::string_view>& fault_names() {
    static const std::vector<std::string_view> names = {
        "drop_after_auth", "drop_after_status_info", "drop_before_completion", "no_completion",
        "crash",           "negative",               "negative_code",          "eod_required",
        "card_inserted",   "busy",                   "slow_message",           "slow_byte",
        "corrupt_crc",     "nak",                    "garbage"};
    return names;
}

Expected<void, std::string> FaultSet::set(std::string_view spec) {
    std::string_view name = spec;
    std::optional<std::string_view> value;
    if (auto eq = spec.find('='); eq != std::string_view::npos) {
        name = spec.substr(0, eq);
        value = spec.substr(eq + 1);
    }
    auto count = [&](int& target) -> Expected<void, std::string> {
        if (!value) {
            target = 1;
            return {};
        }
        auto n = parse_number(*value);
        if (!n || *n > 1'000'000) return unexpected("fault " + std::string(name) + ": count expected");
        target = static_cast<int>(*n);
        return {};
    };
    auto flag = [&](bool& target) -> Expected<void, std::string> {
        if (!value || *value == "on" || *value == "1" || *value == "true") {
            target = true;
        } else if (*value == "off" || *value == "0" || *value == "false") {
            target = false;
        } else {
            return unexpected("fault " + std::string(name) + ": on|off expected");
        }
        return {};
    };
    auto millis = [&](std::chrono::milliseconds& target) -> Expected<void, std::string> {
        auto n = value ? parse_number(*value) : std::nullopt;
        if (!n || *n > 600'000) return unexpected("fault " + std::string(name) + "=MS expected");
        target = std::chrono::milliseconds(*n);
        return {};
    };
    if (name == "drop_after_auth") return count(drop_after_auth);
    if (name == "drop_after_status_info") return count(drop_after_status_info);
    if (name == "drop_before_completion") return count(drop_before_completion);
    if (name == "no_completion") return count(no_completion);
    if (name == "negative") return count(negative);
    if (name == "corrupt_crc") return count(corrupt_crc);
    if (name == "nak") return count(nak);
    if (name == "garbage") return count(garbage);
    if (name == "eod_required") return flag(eod_required);
    if (name == "card_inserted") return flag(card_inserted);
    if (name == "busy") return flag(busy);
    if (name == "slow_message") return millis(slow_message);
    if (name == "slow_byte") return millis(slow_byte);
    if (name == "negative_code") {
        auto n = value ? parse_number(*value, 16) : std::nullopt;
        if (!n || *n > 0xFF) return unexpected(std::string("fault negative_code=XX (hex) expected"));
        negative_code = static_cast<std::uint8_t>(*n);
        return {};
    }
    if (name == "crash") {
        auto p = value ? fault_point_from_name(*value) : std::nullopt;
        if (!p) {
            return unexpected(std::string(
                "fault crash=after_auth|after_status_info|before_completion expected"));
        }
        crash_at = p;
        return {};
    }
    return unexpected("unknown fault '" + std::string(name) + "'");
}

Expected<void, std::string> FaultSet::clear(std::string_view name) {
    if (name.empty()) {
        *this = FaultSet{};
        return {};
    }
    FaultSet fresh;
    if (name == "drop_after_auth") drop_after_auth = 0;
    else if (name == "drop_after_status_info") drop_after_status_info = 0;
    else if (name == "drop_before_completion") drop_before_completion = 0;
    else if (name == "no_completion") no_completion = 0;
    else if (name == "crash") crash_at.reset();
    else if (name == "negative") negative = 0;
    else if (name == "negative_code") negative_code = fresh.negative_code;
    else if (name == "eod_required") eod_required = false;
    else if (name == "card_inserted") card_inserted = false;
    else if (name == "busy") busy = false;
    else if (name == "slow_message") slow_message = {};
    else if (name == "slow_byte") slow_byte = {};
    else if (name == "corrupt_crc") corrupt_crc = 0;
    else if (name == "nak") nak = 0;
    else if (name == "garbage") garbage = 0;
    else return unexpected("unknown fault '" + std::string(name) + "'");
    return {};
}

std::vector<std::string> FaultSet::active() const {
    std::vector<std::string> out;
    auto counted = [&](std::string_view name, int n) {
        if (n > 0) out.push_back(std::string(name) + "=" + std::to_string(n));
    };
    counted("drop_after_auth", drop_after_auth);
    counted("drop_after_status_info", drop_after_status_info);
    counted("drop_before_completion", drop_before_completion);
    counted("no_completion", no_completion);
    if (crash_at) out.push_back("crash=" + std::string(fault_point_name(*crash_at)));
    if (negative > 0) {
        char code[3];
        std::snprintf(code, sizeof code, "%02X", negative_code);
        out.push_back("negative=" + std::to_string(negative) + " negative_code=" + code);
    }
    if (eod_required) out.emplace_back("eod_required");
    if (card_inserted) out.emplace_back("card_inserted");
    if (busy) out.emplace_back("busy");
    if (slow_message.count() > 0) out.push_back("slow_message=" + std::to_string(slow_message.count()));
    if (slow_byte.count() > 0) out.push_back("slow_byte=" + std::to_string(slow_byte.count()));
    counted("corrupt_crc", corrupt_crc);
    counted("nak", nak);
    counted("garbage", garbage);
    return out;
}

}  // namespace pb::sim
