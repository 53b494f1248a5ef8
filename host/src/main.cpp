// `compactmind`: every subcommand registers itself (command.h); main only parses and reports errors.
#include "compactmind/host/command.h"
#include "compactmind/log.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"CompactMind: automatic compression of LLaMA-family language models"};
  app.require_subcommand(1);
  for (const auto& setup : compactmind::host::registered_commands()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    // Commands throw with messages written for people (file, problem, way out).
    compactmind::log_error(error.what());
    return 1;
  }
  return 0;
}
