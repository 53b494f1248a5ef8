// `compactmind`: every subcommand registers itself (command.h); main only parses and reports errors.
#include "compactmind/host/command.h"
#include "compactmind/log.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace {

// LibTorch's OpenMP threads spin between parallel regions by default and starve OpenBLAS's own
// threads: measured here, eval ran 2.4x slower (docs/performance.md). libgomp reads
// OMP_WAIT_POLICY when it is loaded, before main, so the only reliable fix from inside the program
// is to re-execute itself once with the variable set. A value the user set is respected.
void ensure_passive_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the default policy (slower, still correct).
}

}  // namespace

int main(int argc, char** argv) {
  ensure_passive_openmp_waiting(argv);
  CLI::App app{"CompactMind: automatic compression of LLaMA-family language models"};
  app.require_subcommand(1);
  // Before the subcommand runs: `--log-level debug` shows e.g. every plugin file discovery tries.
  app.add_option_function<std::string>(
         "--log-level",
         [](const std::string& level) {
           using compactmind::LogLevel;
           compactmind::set_log_level(level == "debug"  ? LogLevel::kDebug
                                      : level == "warn" ? LogLevel::kWarn
                                      : level == "error" ? LogLevel::kError
                                                         : LogLevel::kInfo);
         },
         "debug | info | warn | error (default info)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
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
