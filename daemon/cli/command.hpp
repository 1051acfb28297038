#pragma once
// `paybridge` subcommands register themselves here, one translation unit per area
// (zvt, serial, ledger, ...), so adding an area never touches main.cpp.

#include <string>

namespace CLI {
class App;
}

namespace pb::cli {

using RegisterFn = void (*)(CLI::App& app);

/// Registers `fn` to add subcommands to the top-level app; `order` sorts --help output.
struct Registrar {
    Registrar(int order, RegisterFn fn);
};

/// Thrown by a subcommand to end with a message on stderr and the given exit status.
struct Failure {
    int exit_code;
    std::string message;
};

}  // namespace pb::cli
