// paybridge: the command line for finance and technicians.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "daemon/cli/command.hpp"

namespace pb::cli {
namespace {
std::vector<std::pair<int, RegisterFn>>& registry() {
    static std::vector<std::pair<int, RegisterFn>> r;
    return r;
}
}  // namespace

Registrar::Registrar(int order, RegisterFn fn) { registry().emplace_back(order, fn); }

}  // namespace pb::cli

int main(int argc, char** argv) {
    CLI::App app{"paybridge: payment history, interim account, day-close, exports and ZVT tools"};
    app.require_subcommand(1);
    auto& reg = pb::cli::registry();
    std::sort(reg.begin(), reg.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (auto& [order, fn] : reg) fn(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help exits 0; any usage error exits 2, like the subcommands' own usage errors.
        return app.exit(e) == 0 ? 0 : 2;
    } catch (const pb::cli::Failure& f) {
        std::cerr << "paybridge: " << f.message << "\n";
        return f.exit_code;
    }
    return 0;
}
