// `compactmind search` through the real binary on tiny-llama2 with a small budget (windows of 64
// tokens): trial counts in the study file, the report, the report's option spellings, a plugin dropped
// into a plugin folder joining the space, a failing plugin's trials recorded as failed, and the
// study surviving SIGKILL mid-trial (--resume: exactly N trials, none lost or duplicated).
#include "compactmind/search/study_storage.h"
#include "pipeline_test_helpers.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <set>
#include <thread>

using namespace compactmind::test;
namespace fs = std::filesystem;
namespace search = compactmind::search;

namespace {

// A quick search: 4 windows of 64 tokens per trial, the final re-evaluation on 4 windows.
std::vector<std::string> search_arguments(const std::vector<std::string>& extra) {
  std::vector<std::string> arguments = {"search", "--model", tiny_llama2().string(), "--eval-windows", "4"};
  for (const auto& option : quick_data_options(64, 4)) arguments.push_back(option);
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return arguments;
}

fs::path test_plugin(const std::string& name) {
  return fs::path(CM_PIPELINE_TEST_PLUGIN_ROOT) / name / ("libcm-" + name + ".so");
}

// (number, state) of every trial row, read with plain SQLite so that a writer in another process is
// never disturbed (a busy database is retried).
std::vector<std::pair<int, std::string>> trial_rows(const fs::path& file) {
  std::vector<std::pair<int, std::string>> rows;
  if (!fs::exists(file)) return rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT number, state FROM trials ORDER BY number", -1, &statement, nullptr) == SQLITE_OK) {
    while (sqlite3_step(statement) == SQLITE_ROW)
      rows.emplace_back(sqlite3_column_int(statement, 0),
                        reinterpret_cast<const char*>(sqlite3_column_text(statement, 1)));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

}  // namespace

TEST_CASE("search: a short study completes with every trial in the storage and a report", "[search]") {
  const fs::path dir = fresh_temp_dir("short");
  const fs::path storage = dir / "study.db";
  // The report's own spellings work too.
  const auto summary = last_json_line(run_host(search_arguments(
      {"--strategy", "random", "--n_trials", "4", "--target_ratio", "0.6", "--seed", "3", "--storage",
       storage.string(), "--report", (dir / "report").string(), "--save_best", (dir / "best").string(), "--json"})));

  const auto& counts = summary.at("counts");
  CHECK(counts.at("finished") == 4);
  CHECK(counts.at("complete").get<int>() + counts.at("infeasible").get<int>() + counts.at("pruned").get<int>() +
            counts.at("failed").get<int>() ==
        4);
  CHECK(counts.at("failed") == 0);

  // Closed at once: the resumes below are other processes, refused while this one holds the file.
  const auto trials = search::StudyStorage(storage.string()).load_trials("compactmind");
  REQUIRE(trials.size() == 4);
  int complete = 0, infeasible = 0;
  double best_ppl = 1e300;
  for (size_t i = 0; i < trials.size(); ++i) {
    CHECK(trials[i].number == static_cast<int>(i));
    CHECK(trials[i].finished());
    CHECK(trials[i].pipeline.is_array());
    if (trials[i].state != search::TrialState::kComplete) continue;
    // The constraint is size_ratio − target: ≤ 0 when satisfied.
    CHECK(trials[i].constraints.at(0) == Approx(trials[i].values.at("size_ratio") - 0.6));
    CHECK(trials[i].evaluation.at("record").at("seqlen") == 64);
    if (trials[i].feasible()) {
      ++complete;
      best_ppl = std::min(best_ppl, trials[i].values.at("ppl"));
      CHECK(trials[i].evaluation.at("windows") == 4);
    } else {
      ++infeasible;
    }
  }
  CHECK(counts.at("complete") == complete);
  CHECK(counts.at("infeasible") == infeasible);
  if (complete > 0) {
    CHECK(summary.at("best").at("ppl").get<double>() == Approx(best_ppl));
    CHECK(summary.at("best").at("size_ratio").get<double>() <= 0.6);
    CHECK(summary.at("final").at("windows") == 4);
    CHECK(fs::exists(dir / "best" / "config.json"));
  }
  for (const char* file : {"trials.json", "trials.csv", "history.svg", "pareto.svg", "report.html"})
    CHECK(fs::file_size(dir / "report" / file) > 0);

  // Resuming with options that would make the trials incomparable is refused before any loading:
  // the search options (checked by the search session) and the evaluation's data (checked by the host).
  const auto other_target = run_host(search_arguments({"--strategy", "random", "--n-trials", "6", "--target-ratio",
                                                       "0.5", "--seed", "3", "--storage", storage.string(), "--resume"}));
  CHECK(other_target.exit_code == 1);
  CHECK_THAT(other_target.err, Catch::Contains("was run with target_ratio = 0.6, not 0.5"));
  auto other_windows = search_arguments({"--strategy", "random", "--n-trials", "6", "--target-ratio", "0.6", "--seed",
                                         "3", "--storage", storage.string(), "--resume"});
  other_windows[4] = "8";  // --eval-windows
  const auto mismatch = run_host(other_windows);
  CHECK(mismatch.exit_code == 1);
  CHECK_THAT(mismatch.err, Catch::Contains("cannot resume study 'compactmind' in '" + storage.string() +
                                           "': it was run with eval_windows = 4, now 8"));
  CHECK_THAT(mismatch.err, !Catch::Contains("threads:"));  // refused before the model was loaded
  fs::remove_all(dir);
}

TEST_CASE("search: plugins dropped into a plugin folder join the space and a failing one fails only its trials",
          "[search]") {
  const fs::path dir = fresh_temp_dir("dropin");
  const fs::path plugins = dir / "plugins";
  fs::create_directories(plugins);
  fs::copy_file(test_plugin("norm-scale"), plugins / "libcm-norm-scale.so");
  fs::copy_file(test_plugin("always-fails"), plugins / "libcm-always-fails.so");
  const fs::path storage = dir / "study.db";
  const auto summary = last_json_line(run_host(search_arguments(
      {"--plugin-dir", plugins.string(), "--strategy", "random", "--n-trials", "8", "--seed", "1", "--objective",
       "pareto", "--storage", storage.string(), "--json",
       // The weight-quantization and one-shot pruning plugins left out: with them the 8 random
       // trials of seed 1 no longer draw always-fails, which this case needs.
       "--space", R"({"rtn": false, "gptq": false, "magnitude": false, "wanda": false})"})));
  CHECK(summary.at("counts").at("finished") == 8);

  search::StudyStorage study(storage.string());
  const auto record = study.find_study("compactmind");
  REQUIRE(record);
  const std::string space = record->space.dump();
  CHECK_THAT(space, Catch::Contains("\"norm-scale.scale\""));
  CHECK_THAT(space, Catch::Contains("\"always-fails.level\""));

  int norm_scale = 0, failed = 0;
  for (const auto& trial : study.load_trials("compactmind")) {
    const std::string pipeline = trial.pipeline.dump();
    if (pipeline.find("\"norm-scale\"") != std::string::npos) ++norm_scale;
    if (pipeline.find("\"always-fails\"") != std::string::npos) {
      CHECK(trial.state == search::TrialState::kFailed);
      CHECK_THAT(trial.error, Catch::Contains("plugin 'always-fails' failed: deliberate failure at level"));
      ++failed;
    }
  }
  CHECK(norm_scale > 0);
  CHECK(failed > 0);
  CHECK(summary.at("counts").at("failed") == failed);
  CHECK(summary.at("pareto_front").size() >= 1);
  fs::remove_all(dir);
}

TEST_CASE("search: SIGKILL mid-trial, then --resume: exactly N trials, none lost or duplicated", "[search]") {
  constexpr int kTrials = 5;
  const fs::path dir = fresh_temp_dir("kill");
  const fs::path storage = dir / "study.db";
  const auto arguments = search_arguments({"--strategy", "random", "--n-trials", std::to_string(kTrials), "--seed",
                                           "7", "--storage", storage.string(), "--json"});
  const pid_t child = spawn_host(arguments, dir / "first.log");
  REQUIRE(child > 0);

  // Kill once one trial has finished and another is running.
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto rows = trial_rows(storage);
    int finished = 0, running = 0;
    for (const auto& [number, state] : rows) (state == "running" ? running : finished)++;
    if (finished >= 1 && running == 1) {
      kill(child, SIGKILL);
      killed = true;
      break;
    }
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) FAIL("the search ended before it could be killed");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(killed);
  REQUIRE(WIFSIGNALED(status));

  const auto before = trial_rows(storage);
  int left_running = 0;
  for (const auto& row : before) left_running += row.second == "running";
  INFO("rows after the kill: " << before.size() << ", running: " << left_running);
  CHECK(static_cast<int>(before.size()) < kTrials + 1);

  auto resume_arguments = arguments;
  resume_arguments.push_back("--resume");
  const auto resumed = run_host(resume_arguments);
  const auto summary = last_json_line(resumed);
  CHECK(summary.at("counts").at("finished") == kTrials);
  if (left_running > 0) CHECK_THAT(resumed.err, Catch::Contains("interrupted trial(s) to redo"));

  const auto after = trial_rows(storage);
  REQUIRE(after.size() == static_cast<size_t>(kTrials));
  std::set<int> numbers;
  for (const auto& [number, state] : after) {
    CHECK(state != "running");
    numbers.insert(number);
  }
  CHECK(numbers == std::set<int>{0, 1, 2, 3, 4});
  // Trials finished before the kill were kept, not redone.
  for (const auto& [number, state] : before)
    if (state != "running") CHECK(std::count(after.begin(), after.end(), std::make_pair(number, state)) == 1);
  fs::remove_all(dir);
}
