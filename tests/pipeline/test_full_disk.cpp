// A search whose report cannot be written (the disk fills up) says so and fails, prints its summary
// all the same, and leaves no truncated report file (issue 13). The full disk is a file-size limit
// (prlimit --fsize, no root needed) with SIGXFSZ ignored, so writes past it fail with EFBIG.
#include "hostile_test_support.h"

#include <catch2/catch.hpp>

using namespace compactmind::test;
namespace fs = std::filesystem;

TEST_CASE("search --report on a full disk: summary printed, exit 1, no truncated report file", "[full_disk]") {
  const fs::path dir = fresh_temp_dir("full-report");
  const fs::path report = dir / "report";
  std::vector<std::string> arguments = {"--log-level", "warn", "search", "--model", tiny_llama2().string(),
                                        "--strategy", "random", "--n-trials", "1", "--eval-windows", "2",
                                        "--report", report.string()};
  for (const auto& option : quick_data_options(64, 2)) arguments.push_back(option);
  // report.html holds both charts inline: far above 6 kB, while the log (warnings only) stays below.
  const CommandResult result = run_host(arguments, "trap '' XFSZ; prlimit --fsize=6000 ");
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("cannot write report file '" + report.string() + "/"));
  CHECK_THAT(result.err, Catch::Contains("': File too large (disk full?)"));
  CHECK_THAT(result.out, Catch::StartsWith("random search, 1 trials: "));
  // All or nothing: none of the five files was renamed into place, and no temporary is left.
  CHECK(listing(report).empty());
  fs::remove_all(dir);
}
