#include "run_host.h"

#include "temp_dir.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace compactmind::test {
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult run_shell(const std::string& command) {
  const TempDir capture("command");
  const std::string redirected = "( " + command + " ) >" + shell_quote(capture.file("out")) + " 2>" +
                                 shell_quote(capture.file("err"));
  const int status = std::system(redirected.c_str());
  if (status == -1) throw std::runtime_error("cannot run: " + command);
  CommandResult result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  // /bin/sh reports a child killed by signal N as exit status 128 + N.
  if (result.exit_code > 128 && result.exit_code < 128 + 65) result.signal = result.exit_code - 128;
  result.out = read_file(capture / "out");
  result.err = read_file(capture / "err");
  return result;
}

CommandResult run_host(const std::vector<std::string>& arguments, const std::string& shell_prefix) {
  std::string command = shell_prefix.empty() ? "" : shell_prefix + " ";
  command += shell_quote(COMPACTMIND_HOST_BIN);
  for (const auto& argument : arguments) command += " " + shell_quote(argument);
  return run_shell(command);
}

pid_t spawn_host(const std::vector<std::string>& arguments, const fs::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::string binary = COMPACTMIND_HOST_BIN;
    std::vector<std::string> copies = arguments;
    std::vector<char*> argv{binary.data()};
    for (auto& argument : copies) argv.push_back(argument.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  if (pid < 0) throw std::runtime_error("fork failed");
  return pid;
}

}  // namespace compactmind::test
