// Subcommands of the `compactmind` CLI register themselves: each lives in its own
// host/src/command_<name>.cpp and ends with COMPACTMIND_REGISTER_COMMAND(<function>), so adding a
// command touches no shared file. (compactmind_host is an OBJECT library, so no registrar is dropped
// by the linker.)
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace compactmind::host {

// Adds one subcommand (with its options and callback) to the application.
using CommandSetup = std::function<void(CLI::App& app)>;

std::vector<CommandSetup>& registered_commands();

struct CommandRegistrar {
  explicit CommandRegistrar(CommandSetup setup) { registered_commands().push_back(std::move(setup)); }
};

}  // namespace compactmind::host

#define CM_HOST_CONCAT2(a, b) a##b
#define CM_HOST_CONCAT(a, b) CM_HOST_CONCAT2(a, b)
#define COMPACTMIND_REGISTER_COMMAND(setup_function) \
  static const ::compactmind::host::CommandRegistrar CM_HOST_CONCAT(cm_command_registrar_, __LINE__){setup_function}
