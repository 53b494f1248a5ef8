// Running commands from tests: the real `compactmind` binary (COMPACTMIND_HOST_BIN) or any shell
// command, waiting for it, with stdout and stderr captured separately so a test can assert on both.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace compactmind::test {

struct CommandResult {
  int exit_code = -1;  // -1 when the command did not exit normally (a signal)
  int signal = 0;      // the signal that ended it, else 0
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs `command` through /bin/sh.
CommandResult run_shell(const std::string& command);

// Runs COMPACTMIND_HOST_BIN with `arguments`, each shell-quoted. `shell_prefix` goes verbatim before
// the binary: variables ("COMPACTMIND_PLUGIN_PATH=") or a wrapper ("prlimit --fsize=6000").
CommandResult run_host(const std::vector<std::string>& arguments, const std::string& shell_prefix = "");

// Starts COMPACTMIND_HOST_BIN with `arguments` in the background (no shell), stdout and stderr both
// to `log`; returns its pid for the test to signal and wait for.
pid_t spawn_host(const std::vector<std::string>& arguments, const std::filesystem::path& log);

// 'text' quoted for /bin/sh.
std::string shell_quote(const std::string& text);

}  // namespace compactmind::test
