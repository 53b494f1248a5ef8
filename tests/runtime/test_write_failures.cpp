// Every model writer checks its stream after closing and fails loudly (issue 13): a full disk is
// simulated without root by pointing the file being written at /dev/full (every write: ENOSPC).
#include "compactmind/safetensors.h"

#include "atomic_files.h"
#include "io_test_support.h"

#include <catch2/catch.hpp>

using namespace compactmind;
using compactmind::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("config.json on a full disk fails with the file's name, leaving no file", "[write_failures]") {
  REQUIRE(fs::exists("/dev/full"));
  TempDir scratch("full-json");
  // What write_json_atomically writes first; small, so the data stays in the stream's buffer until close.
  fs::create_symlink("/dev/full", scratch / "config.json.tmp");
  CHECK_THROWS_WITH(compactmind::detail::write_json_atomically(scratch / "config.json", {{"hidden_size", 16}}),
                    "writing '" + (scratch / "config.json").string() + "' failed: No space left on device (disk full?)");
  CHECK_FALSE(fs::exists(scratch / "config.json"));
  CHECK_FALSE(fs::is_symlink(scratch / "config.json.tmp"));
}

TEST_CASE("a safetensors file on a full disk fails with the file's name, leaving no file", "[write_failures]") {
  TempDir scratch("full-safetensors");
  fs::create_symlink("/dev/full", scratch / "model.safetensors.tmp");
  const at::Tensor weight = at::ones({4, 4});
  CHECK_THROWS_WITH(write_safetensors_file(scratch / "model.safetensors", {safetensors_entry("w", weight, at::kFloat)}),
                    Catch::StartsWith("writing '" + (scratch / "model.safetensors.tmp").string() + "' failed"));
  CHECK_FALSE(fs::exists(scratch / "model.safetensors"));
}
