#include "pipeline_test_helpers.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace compactmind::test {
namespace fs = std::filesystem;

fs::path fixtures() {
  if (const char* dir = std::getenv("COMPACTMIND_FIXTURES"); dir != nullptr && *dir != '\0') return dir;
  return COMPACTMIND_FIXTURES_DIR;
}

fs::path tiny_llama2() { return fixtures() / "models" / "tiny-llama2"; }

fs::path wikitext(const std::string& file) { return fixtures() / "data" / "wikitext-2" / file; }

fs::path fresh_temp_dir(const std::string& tag) {
  std::string pattern = (fs::temp_directory_path() / ("cm-pipeline-" + tag + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

namespace {

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string read_file(const fs::path& path) {
  std::ifstream file(path);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace

HostResult run_host(const std::vector<std::string>& arguments, const std::string& shell_prefix) {
  const fs::path dir = fresh_temp_dir("run");
  std::string command = shell_prefix + shell_quote(COMPACTMIND_HOST_BIN);
  for (const auto& argument : arguments) command += " " + shell_quote(argument);
  command += " >" + shell_quote((dir / "out").string()) + " 2>" + shell_quote((dir / "err").string());
  const int status = std::system(command.c_str());
  HostResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(dir / "out");
  result.err = read_file(dir / "err");
  fs::remove_all(dir);
  return result;
}

nlohmann::json last_json_line(const HostResult& result) {
  INFO("stderr:\n" << result.err);
  REQUIRE(result.exit_code == 0);
  std::istringstream lines(result.out);
  std::string line, last;
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  REQUIRE_FALSE(last.empty());
  return nlohmann::json::parse(last);
}

std::vector<std::string> quick_data_options(int64_t seqlen, int64_t max_windows) {
  return {"--data",      wikitext("test.txt").string(), "--calib-data", wikitext("valid.txt").string(),
          "--train-data", wikitext("valid.txt").string(), "--seqlen",    std::to_string(seqlen),
          "--max-windows", std::to_string(max_windows),   "--calib-samples", "8",
          "--threads",    "2"};
}

}  // namespace compactmind::test
