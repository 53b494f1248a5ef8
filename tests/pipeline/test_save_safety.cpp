// Saving never loses what the user did not ask to replace (issue 13): `--save`, `--save-best` and
// `tools random-model --out` refuse a non-empty folder unless --overwrite, replace only a model folder
// with it, never the source model however spelled, and a save killed at any instant leaves a whole
// model at the target; the next save cleans the leftovers.
#include "hostile_test_support.h"

#include <catch2/catch.hpp>

using namespace compactmind::test;
namespace fs = std::filesystem;

namespace {

std::string refusal(const fs::path& dir, const std::string& problem) {
  return "cannot save a model to '" + dir.string() + "': " + problem;
}

const char* const kNotEmpty =
    "the folder exists and is not empty; choose another folder, or pass --overwrite to replace the model saved there";

// The hidden siblings an interrupted save leaves next to `dir`.
std::set<std::string> save_leftovers(const fs::path& dir) {
  std::set<std::string> found;
  for (const auto& name : listing(dir.parent_path()))
    if (name.rfind("." + dir.filename().string() + ".", 0) == 0) found.insert(name);
  return found;
}

}  // namespace

TEST_CASE("save: a non-empty folder is refused without --overwrite, and a user's folder even with it", "[save]") {
  const fs::path dir = fresh_temp_dir("save-refuse");
  const fs::path target = dir / "out";
  fs::create_directories(target / "sub");
  write_text(target / "config.json", "{}");
  write_text(target / "important.txt", "keep me");
  write_text(target / "sub" / "data", "keep me too");

  const CommandResult plain = write_random_model(target, 1);
  CHECK(plain.exit_code != 0);
  CHECK_THAT(plain.err, Catch::Contains(refusal(target, kNotEmpty)));

  fs::remove_all(target / "sub");
  const CommandResult forced = write_random_model(target, 1, {"--overwrite"});
  CHECK(forced.exit_code != 0);
  CHECK_THAT(forced.err, Catch::Contains(refusal(target, "--overwrite replaces only a model folder, and this one also "
                                                        "holds 'important.txt', which is not part of a saved model; "
                                                        "move it away or choose another folder")));
  fs::remove(target / "important.txt");
  fs::create_directories(target / "sub");
  const CommandResult subfolder = write_random_model(target, 1, {"--overwrite"});
  CHECK(subfolder.exit_code != 0);
  CHECK_THAT(subfolder.err, Catch::Contains("this one also holds 'sub', which is not part of a saved model"));

  CHECK(listing(target) == std::set<std::string>{"config.json", "sub"});
  CHECK(file_bytes(target / "config.json") == "{}");
  CHECK(save_leftovers(target).empty());
  fs::remove_all(dir);
}

TEST_CASE("save: --overwrite replaces a model folder, and only then", "[save]") {
  const fs::path dir = fresh_temp_dir("save-overwrite");
  const fs::path target = dir / "model";
  REQUIRE(write_random_model(target, 1).exit_code == 0);
  const std::string first = file_bytes(target / "model.safetensors");

  const CommandResult again = write_random_model(target, 2);
  CHECK(again.exit_code != 0);
  CHECK_THAT(again.err, Catch::Contains(refusal(target, kNotEmpty)));
  CHECK(file_bytes(target / "model.safetensors") == first);

  const CommandResult replaced = write_random_model(target, 2, {"--overwrite"});
  INFO(replaced.err);
  REQUIRE(replaced.exit_code == 0);
  CHECK(file_bytes(target / "model.safetensors") != first);
  CHECK(listing(target) == std::set<std::string>{"config.json", "generation_config.json", "model.safetensors"});
  CHECK(save_leftovers(target).empty());
  fs::remove_all(dir);
}

TEST_CASE("save: the source model is never the target, however it is spelled", "[save]") {
  const fs::path dir = fresh_temp_dir("save-source");
  const fs::path model = dir / "model";
  REQUIRE(write_random_model(model, 1).exit_code == 0);
  fs::create_directory_symlink(model, dir / "link");
  const std::string weights = file_bytes(model / "model.safetensors");
  const std::set<std::string> files = listing(model);

  const std::string pipeline = R"([{"method": "llm-pruner", "pruning_ratio": 0.2}])";
  for (const std::string& spelling : {model.string() + "/", (dir / "link").string(), (model / ".." / "model").string()}) {
    const CommandResult run = run_host({"run", "--model", model.string(), "--pipeline", pipeline, "--save", spelling,
                                     "--overwrite", "--threads", "1"});
    CHECK(run.exit_code != 0);
    CHECK_THAT(run.err, Catch::Contains(refusal(spelling, "it is the model being compressed ('" + model.string() +
                                                              "'), which is never replaced; choose another folder")));
    // Refused before loading: no step ran.
    CHECK_THAT(run.err, !Catch::Contains("step llm-pruner done"));
  }
  const CommandResult search = run_host({"search", "--model", model.string() + "/", "--save-best", (dir / "link").string(),
                                      "--overwrite", "--n-trials", "1", "--threads", "1"});
  CHECK(search.exit_code != 0);
  CHECK_THAT(search.err, Catch::Contains(refusal(dir / "link", "it is the model being compressed")));
  CHECK_THAT(search.err, !Catch::Contains("trial 1/1 starts"));

  CHECK(file_bytes(model / "model.safetensors") == weights);
  CHECK(listing(model) == files);
  CHECK(save_leftovers(model).empty());
  fs::remove_all(dir);
}

TEST_CASE("save: run --save and search --save-best refuse a non-empty folder before loading", "[save]") {
  const fs::path dir = fresh_temp_dir("save-commands");
  const fs::path target = dir / "notes";
  fs::create_directories(target);
  write_text(target / "important.txt", "keep me");
  const CommandResult run = run_host({"run", "--model", tiny_llama2().string(), "--pipeline", "[]", "--save",
                                   target.string(), "--threads", "1"});
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains(refusal(target, kNotEmpty)));
  CHECK_THAT(run.err, !Catch::Contains("threads: "));  // nothing was loaded
  const CommandResult search = run_host({"search", "--model", tiny_llama2().string(), "--save-best", target.string(),
                                      "--n-trials", "1", "--threads", "1"});
  CHECK(search.exit_code == 1);
  CHECK_THAT(search.err, Catch::Contains(refusal(target, kNotEmpty)));
  CHECK_THAT(search.err, !Catch::Contains("threads: "));
  CHECK(listing(target) == std::set<std::string>{"important.txt"});
  CHECK(file_bytes(target / "important.txt") == "keep me");
  fs::remove_all(dir);
}

TEST_CASE("save: killed just before or just after the swap, a whole model is at the target", "[save]") {
  const fs::path dir = fresh_temp_dir("save-crash");
  const fs::path target = dir / "model";
  REQUIRE(write_random_model(target, 1).exit_code == 0);
  REQUIRE(write_random_model(dir / "seed2", 2).exit_code == 0);
  const std::string old_weights = file_bytes(target / "model.safetensors");
  const std::string new_weights = file_bytes(dir / "seed2" / "model.safetensors");

  for (const std::string point : {"save-before-swap", "save-after-swap"}) {
    INFO(point);
    {
      ScopedEnv crash("COMPACTMIND_TEST_CRASH_AT", point);
      CHECK(write_random_model(target, 2, {"--overwrite"}).exit_code != 0);
    }
    // Before the swap the old model is there; after it the new one: never a missing or mixed folder.
    CHECK(file_bytes(target / "model.safetensors") == (point == "save-before-swap" ? old_weights : new_weights));
    CHECK(fs::is_regular_file(target / "config.json"));
    CHECK(save_leftovers(target).size() == 1);  // the killed save's hidden sibling

    // The next save removes it, and keeps nothing else behind.
    const CommandResult next = write_random_model(target, 1, {"--overwrite"});
    INFO(next.err);
    REQUIRE(next.exit_code == 0);
    CHECK_THAT(next.err, Catch::Contains("left by an interrupted save"));
    CHECK(save_leftovers(target).empty());
    CHECK(file_bytes(target / "model.safetensors") == old_weights);
  }
  fs::remove_all(dir);
}

TEST_CASE("save: without RENAME_EXCHANGE a kill between the renames is repaired by the next save", "[save]") {
  const fs::path dir = fresh_temp_dir("save-fallback");
  const fs::path target = dir / "model";
  REQUIRE(write_random_model(target, 1).exit_code == 0);
  const std::string old_weights = file_bytes(target / "model.safetensors");
  {
    ScopedEnv fallback("COMPACTMIND_TEST_NO_RENAME_EXCHANGE", "1");
    ScopedEnv crash("COMPACTMIND_TEST_CRASH_AT", "save-after-swap");
    CHECK(write_random_model(target, 2, {"--overwrite"}).exit_code != 0);
  }
  // The documented gap of the fallback: the old model sits aside, the new one is complete beside it.
  CHECK_FALSE(fs::exists(target));
  CHECK(save_leftovers(target).size() == 2);

  // A save that does not say --overwrite puts the old model back and then refuses to replace it.
  const CommandResult next = write_random_model(target, 3);
  CHECK(next.exit_code != 0);
  CHECK_THAT(next.err, Catch::Contains("restored '" + target.string() + "' from"));
  CHECK_THAT(next.err, Catch::Contains(refusal(target, kNotEmpty)));
  CHECK(file_bytes(target / "model.safetensors") == old_weights);
  CHECK(save_leftovers(target).empty());
  fs::remove_all(dir);
}
