// The `compactmind tools` group: utilities that are not part of compressing a model (making random
// checkpoints, ...). Each tool registers its own subcommand under it, from its own file:
//   void setup_my_tool(CLI::App& app) { auto* tool = tools_command(app).add_subcommand("my-tool", "..."); ... }
//   COMPACTMIND_REGISTER_COMMAND(setup_my_tool);
#pragma once

#include <CLI/CLI.hpp>

namespace compactmind::host {

// The `tools` subcommand of `app`, created on first use (registration order is unspecified).
CLI::App& tools_command(CLI::App& app);

}  // namespace compactmind::host
