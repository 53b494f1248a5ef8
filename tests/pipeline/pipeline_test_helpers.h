// Shared by the pipeline tests: the --json summary a run prints, and the evaluation options every test
// passes (fixture paths, temp folders and running the host: tests/support).
#pragma once

#include "support/fixtures.h"
#include "support/run_host.h"
#include "support/temp_dir.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace compactmind::test {

std::filesystem::path tiny_llama2();  // model_dir("tiny-llama2")

// The last line of `out` parsed as JSON (what --json prints); fails the test with stderr otherwise.
nlohmann::json last_json_line(const CommandResult& result);

// The evaluation options every test passes: small windows, few of them, 2 threads.
std::vector<std::string> quick_data_options(int64_t seqlen, int64_t max_windows);

}  // namespace compactmind::test
