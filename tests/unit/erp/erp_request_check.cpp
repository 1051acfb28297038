// Reads JSON requests, one per line, and parses each with the codec; exit 1 if any is refused.
// Used by erp_client_smoke.py so that the example client and the codec cannot drift apart.
#include <fstream>
#include <iostream>
#include <string>

#include "protocol/erp/request.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: erp_request_check FILE.jsonl\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    std::string line;
    int n = 0;
    int bad = 0;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        ++n;
        auto r = pb::erp::parse_request(line);
        if (!r) {
            ++bad;
            std::cerr << "refused: " << r.error().to_string() << "\n  " << line << "\n";
        }
    }
    std::cout << "codec accepted " << (n - bad) << " of " << n << " requests\n";
    return bad == 0 && n > 0 ? 0 : 1;
}
