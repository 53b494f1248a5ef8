#include "pipeline_test_helpers.h"

#include <catch2/catch.hpp>

#include <sstream>

namespace compactmind::test {
namespace fs = std::filesystem;

fs::path tiny_llama2() { return model_dir("tiny-llama2"); }

nlohmann::json last_json_line(const CommandResult& result) {
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
