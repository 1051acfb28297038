#pragma once
// Builds the ZVT driver of one configured terminal (transport, password, timers).

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/zvt_terminal.hpp"
#include "daemon/config.hpp"

namespace pb::daemon {

/// Driver options from config; a USB identity is resolved to its device path now (an
/// unplugged adapter leaves the path empty: the driver then reports why it stays offline).
adapters::ZvtTerminalOptions terminal_options(const TerminalConfig& config);

std::unique_ptr<adapters::ZvtTerminal> make_zvt_terminal(boost::asio::any_io_executor ex,
                                                         const TerminalConfig& config,
                                                         adapters::ZvtTerminalCallbacks callbacks);

}  // namespace pb::daemon
