// The study file is never shared, mixed or damaged (issue 13): a second writer process is refused
// while the first runs, another application's SQLite database is refused byte for byte untouched, and
// --resume recognises the model and the texts by content (a trailing slash is the same model; a model
// or a text replaced behind the same path is refused).
#include "hostile_test_support.h"

#include <catch2/catch.hpp>

#include <sqlite3.h>

using namespace compactmind::test;
namespace fs = std::filesystem;

namespace {

// A quick search: 2 windows of 64 tokens per trial, on `data`; `flags` appended (--resume, --json).
std::vector<std::string> search_on(const fs::path& model, const fs::path& storage, int trials,
                                   const std::vector<std::string>& flags = {}, const fs::path& data = wikitext("test.txt")) {
  std::vector<std::string> arguments = {"search", "--model", model.string(), "--strategy", "random", "--n-trials",
                                        std::to_string(trials), "--eval-windows", "2", "--storage", storage.string()};
  for (const auto& option : quick_data_options(64, 2)) arguments.push_back(option);
  arguments = with_option(arguments, "--data", data.string());
  arguments.insert(arguments.end(), flags.begin(), flags.end());
  return arguments;
}

void make_foreign_database(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

const char* const kNotComparable = "; its trials would not be comparable — use the same options or another --storage file";

}  // namespace

TEST_CASE("study: a second writer process is refused while the first runs", "[study]") {
  const fs::path dir = fresh_temp_dir("study-lock");
  const fs::path storage = dir / "study.db";
  const pid_t first = spawn_host(search_on(tiny_llama2(), storage, 3), dir / "first.log");
  REQUIRE(first > 0);
  // Once a trial runs, the first process holds the file.
  REQUIRE(wait_for_log(dir / "first.log", "trial 1/3 starts"));

  const CommandResult second = run_host(search_on(tiny_llama2(), storage, 3, {"--resume"}));
  CHECK(second.exit_code == 1);
  CHECK_THAT(second.err, Catch::Contains("study file '" + storage.string() +
                                         "' is in use by another compactmind process (one writer at a time); wait "
                                         "for it to finish, or use another --storage file"));
  int status = 0;
  REQUIRE(::waitpid(first, &status, 0) == first);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The first process's study is whole; once it has ended, resuming works again.
  const auto resumed = last_json_line(run_host(search_on(tiny_llama2(), storage, 4, {"--resume", "--json"})));
  CHECK(resumed.at("counts").at("finished") == 4);
  CHECK(resumed.at("trials_run_now") == 1);
  fs::remove_all(dir);
}

TEST_CASE("study: another application's SQLite database is refused and left byte for byte", "[study]") {
  const fs::path dir = fresh_temp_dir("study-foreign");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine');",
       "it holds a table 'notes' CompactMind never creates"},
      {"CREATE TABLE trials (id INTEGER PRIMARY KEY, patient TEXT); INSERT INTO trials (patient) VALUES ('x');",
       "its table 'trials' has other columns than a study's"}};
  for (const auto& [sql, problem] : cases) {
    const fs::path storage = dir / "app.db";
    fs::remove(storage);
    make_foreign_database(storage, sql);
    const std::string before = file_bytes(storage);
    const CommandResult result = run_host(search_on(tiny_llama2(), storage, 1));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Catch::Contains("study file '" + storage.string() +
                                           "' is not a CompactMind study (another application's SQLite database?): " +
                                           problem + "; it was left untouched — choose another --storage file"));
    CHECK(file_bytes(storage) == before);
    CHECK(listing(dir) == std::set<std::string>{"app.db"});  // no journal, no side file
  }
  fs::remove_all(dir);
}

TEST_CASE("study: --resume knows the model and the texts by content, not by path spelling", "[study]") {
  const fs::path dir = fresh_temp_dir("study-identity");
  const fs::path model = dir / "model";
  const fs::path storage = dir / "study.db";
  const fs::path data = dir / "eval.txt";
  std::string text;
  for (int i = 0; i < 40; ++i) text += "The river rose in the spring, and the town moved its market to the hill. ";
  write_text(data, text);
  REQUIRE(write_evaluable_model(model, 1).exit_code == 0);
  REQUIRE(last_json_line(run_host(search_on(model, storage, 1, {"--json"}, data))).at("counts").at("finished") == 1);
  // The same model, spelled with a trailing slash: the same study.
  const std::vector<std::string> resume = {"--resume"};
  const CommandResult slash = run_host(search_on(model.string() + "/", storage, 2, resume, data));
  INFO(slash.err);
  REQUIRE(slash.exit_code == 0);

  // Another text behind the same path.
  write_text(data, text + "A last sentence nobody evaluated before. ");
  const CommandResult other_text = run_host(search_on(model, storage, 3, resume, data));
  CHECK(other_text.exit_code == 1);
  CHECK_THAT(other_text.err, Catch::Contains("cannot resume study 'compactmind' in '" + storage.string() +
                                             "': it was run with data_sha256 = \""));
  CHECK_THAT(other_text.err, Catch::Contains("(the content differs: another or an edited file behind the path)" +
                                             std::string(kNotComparable)));
  write_text(data, text);

  // Another model (same shape, other weights) behind the same path.
  REQUIRE(write_evaluable_model(model, 2, {"--overwrite"}).exit_code == 0);
  const CommandResult other_model = run_host(search_on(model, storage, 3, resume, data));
  CHECK(other_model.exit_code == 1);
  CHECK_THAT(other_model.err, Catch::Contains("': it was run with model_fingerprint = \""));
  CHECK_THAT(other_model.err, Catch::Contains("(the content differs: another or an edited file behind the path)"));
  fs::remove_all(dir);
}
