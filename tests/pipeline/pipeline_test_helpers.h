// Shared by the pipeline tests: fixtures paths, isolated temp folders, and running the real
// `compactmind` binary (stdout captured, stderr to a file the test can quote).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace compactmind::test {

std::filesystem::path fixtures();                  // $COMPACTMIND_FIXTURES, else the build's setting
std::filesystem::path tiny_llama2();               // fixtures()/models/tiny-llama2
std::filesystem::path wikitext(const std::string& file);  // fixtures()/data/wikitext-2/<file>

// A new empty folder under the system temp dir, unique to this call (mkdtemp).
std::filesystem::path fresh_temp_dir(const std::string& tag);

struct HostResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs COMPACTMIND_HOST_BIN with `arguments` (each one shell-quoted), waiting for it. `shell_prefix`
// goes verbatim before the binary (e.g. "prlimit --fsize=6000 " to simulate a full disk).
HostResult run_host(const std::vector<std::string>& arguments, const std::string& shell_prefix = "");

// The last line of `out` parsed as JSON (what --json prints); fails the test with stderr otherwise.
nlohmann::json last_json_line(const HostResult& result);

// The evaluation options every test passes: small windows, few of them, 2 threads.
std::vector<std::string> quick_data_options(int64_t seqlen, int64_t max_windows);

}  // namespace compactmind::test
