#pragma once
// Loads tests/data/zvt/*.hex: "name: hex" lines with "# key: value" annotations before them.

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/core/bytes.hpp"

namespace pb::zvt::test {

struct Vector {
    std::string name;
    Bytes bytes;
    std::map<std::string, std::string> notes;  // "expect" -> "serial frame_crc_mismatch"
};

inline std::vector<Vector> load_vectors(const std::string& file) {
    std::ifstream in(std::string(PB_TEST_DATA_DIR) + "/zvt/" + file);
    if (!in) throw std::runtime_error("cannot open " + file);
    std::vector<Vector> out;
    std::map<std::string, std::string> notes;
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# ", 0) == 0) {
            const auto body = line.substr(2);
            const auto colon = body.find(':');
            if (body == "lossy") notes["lossy"] = "";
            else if (colon != std::string::npos &&
                     (body.rfind("expect", 0) == 0 || body.rfind("context", 0) == 0))
                notes[body.substr(0, colon)] = body.substr(colon + 2);
            continue;
        }
        const auto colon = line.find(':');
        if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
        auto bytes = from_hex(line.substr(colon + 1));
        if (!bytes) throw std::runtime_error("bad hex in " + file + ": " + line);
        out.push_back({line.substr(0, colon), std::move(*bytes), notes});
        notes.clear();
    }
    return out;
}

inline Vector find_vector(const std::string& file, const std::string& name) {
    for (auto& v : load_vectors(file))
        if (v.name == name) return v;
    throw std::runtime_error("no vector " + name);
}

}  // namespace pb::zvt::test
