#include "compactmind/search/median_pruner.h"
#include "compactmind/search/pipeline_space.h"
#include "compactmind/search/study.h"
#include "compactmind/search/study_storage.h"
#include "test_helpers.h"
#include "support/temp_dir.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <csignal>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace compactmind;
using namespace compactmind::search;
using compactmind::search::testing::builtin_like_plugins;
using compactmind::test::TempDir;

namespace {

PipelineSpace pipelines() { return PipelineSpace(builtin_like_plugins(), {true}); }

// A deterministic stand-in for "compress and evaluate": PPL and size depend on the pipeline.
TrialOutcome fake_evaluation(const Trial& trial, TrialReporter& reporter) {
  double ppl = 10.0, size = 1.0;
  for (const auto& step : trial.pipeline) {
    reporter.add_step_time(step["method"], 0.01);
    if (step["method"] == "llm_pruner") ppl += 20 * step["ratio"].get<double>(), size -= step["ratio"].get<double>();
    if (step["method"] == "smoothquant") ppl += std::fabs(step["alpha"].get<double>() - 0.5), size *= 0.3;
    if (step["method"] == "lora_retrain") ppl -= 1.0;
  }
  return {{{"ppl", ppl}, {"size_ratio", size}}, {size - 0.6}, {{"windows", 4}}};
}

StudyOptions options_for(const PipelineSpace& space, const std::string& name = "study") {
  StudyOptions options;
  options.name = name;
  options.objectives = {"ppl"};
  options.config = {{"strategy", "bayesian"}, {"seed", 5}};
  options.pruner.enabled = false;
  options.to_pipeline = [&space](const nlohmann::json& point) { return space.to_pipeline(point); };
  return options;
}

std::vector<nlohmann::json> params_of(const std::vector<Trial>& trials) {
  std::vector<nlohmann::json> out;
  for (const auto& trial : trials) out.push_back(trial.params);
  return out;
}

}  // namespace

TEST_CASE("a study records complete, infeasible, failed and NaN trials and goes on", "[search][study]") {
  const auto space = pipelines();
  Study study(space.space(), options_for(space), make_sampler("random", {5, 12}));
  int calls = 0;
  const int ran = study.optimize(12, [&](const Trial& trial, TrialReporter& reporter) {
    ++calls;
    if (trial.number == 3) throw std::runtime_error("plugin 'smoothquant' failed: out of memory");
    auto outcome = fake_evaluation(trial, reporter);
    if (trial.number == 5) outcome.values["ppl"] = NAN;
    return outcome;
  });
  CHECK(ran == 12);
  CHECK(calls == 12);
  const auto& trials = study.trials();
  REQUIRE(trials.size() == 12);
  CHECK(trials[3].state == TrialState::kFailed);
  CHECK(trials[3].error == "plugin 'smoothquant' failed: out of memory");
  CHECK(trials[5].state == TrialState::kFailed);
  CHECK(trials[5].error == "objective 'ppl' is NaN");
  const auto counts = count_trials(trials);
  CHECK(counts.failed == 2);
  CHECK(counts.complete + counts.infeasible == 10);
  CHECK(counts.infeasible > 0);
  for (const auto& trial : trials) {
    CHECK(trial.pipeline.is_array());
    if (trial.state == TrialState::kComplete) {
      CHECK(trial.step_times.size() == trial.pipeline.size());
      CHECK(trial.evaluation == nlohmann::json{{"windows", 4}});
      CHECK(trial.feasible() == (*trial.value("size_ratio") <= 0.6));
    }
  }
  const auto best = best_trial(trials, "ppl");
  REQUIRE(best);
  CHECK(best->feasible());
}

TEST_CASE("median pruner follows Optuna's MedianPruner rules", "[search][pruner]") {
  std::vector<Trial> history(4);
  const double at_step_1[4] = {5.0, 7.0, 9.0, 100.0};
  for (int i = 0; i < 4; ++i) {
    history[i].state = TrialState::kComplete;
    history[i].intermediates = {{0, 10.0}, {1, at_step_1[i]}};
  }
  Trial current;
  current.intermediates = {{0, 9.0}, {1, 8.5}};
  // Median at step 1 = (7 + 9) / 2 = 8.
  CHECK(MedianPruner({true, 4, 0, 1}).should_prune(current, 1, history));
  CHECK_FALSE(MedianPruner({true, 5, 0, 1}).should_prune(current, 1, history));  // too few complete trials
  CHECK_FALSE(MedianPruner({true, 4, 2, 1}).should_prune(current, 1, history));  // still warming up
  CHECK_FALSE(MedianPruner({false, 0, 0, 1}).should_prune(current, 1, history));
  current.intermediates[1] = 7.5;
  CHECK_FALSE(MedianPruner({true, 4, 0, 1}).should_prune(current, 1, history));
  // The best value so far counts, not the latest.
  current.intermediates = {{0, 1.0}, {1, 50.0}};
  CHECK_FALSE(MedianPruner({true, 4, 0, 1}).should_prune(current, 1, history));
  current.intermediates = {{0, NAN}};
  CHECK(MedianPruner({true, 4, 0, 1}).should_prune(current, 0, history));
}

TEST_CASE("a study prunes trials whose intermediate values are worse than the median", "[search][pruner][study]") {
  const auto space = pipelines();
  auto options = options_for(space);
  options.pruner = {true, 3, 0, 1};
  Study study(space.space(), options, make_sampler("random", {11, 20}));
  study.optimize(20, [](const Trial& trial, TrialReporter& reporter) {
    auto outcome = fake_evaluation(trial, reporter);
    for (int chunk = 0; chunk < 4; ++chunk)
      if (reporter.report(chunk, outcome.values["ppl"] * (1.0 + 0.1 * (3 - chunk))))
        throw TrialPruned("pruned at chunk " + std::to_string(chunk));
    return outcome;
  });
  const auto counts = count_trials(study.trials());
  CHECK(counts.finished() == 20);
  CHECK(counts.pruned > 0);
  for (const auto& trial : study.trials()) {
    if (trial.state != TrialState::kPruned) continue;
    CHECK(trial.number >= 3);
    CHECK(trial.error.rfind("pruned at chunk", 0) == 0);
    CHECK_FALSE(trial.intermediates.empty());
    CHECK(trial.values.empty());
  }
}

TEST_CASE("study storage round-trips every field of a trial", "[search][storage]") {
  TempDir dir("search");
  StudyStorage storage(dir.file("study.db"));
  storage.create_study({"s", {"ppl", "size_ratio"}, "0123456789abcdef", {{"d", 1}}, {{"seed", 3}}, ""});
  Trial trial;
  trial.number = 7;
  trial.state = TrialState::kPruned;
  trial.params = {{"mode", "single"}, {"x", 0.25}};
  trial.pipeline = nlohmann::json::parse(R"([{"method": "smoothquant", "alpha": 0.5}])");
  trial.values = {{"ppl", 12.5}, {"size_ratio", 0.4}, {"kl", NAN}};
  trial.constraints = {-0.2};
  trial.intermediates = {{0, 14.0}, {2, 13.0}};
  trial.evaluation = {{"windows", 8}, {"top1", 0.9}};
  trial.step_times = {{"smoothquant", 1.5}};
  trial.error = "pruned at chunk 2";
  trial.started_at = "2026-01-01T00:00:00.000Z";
  trial.finished_at = "2026-01-01T00:00:02.000Z";
  trial.duration_s = 2.0;
  storage.write_trial("s", trial);

  StudyStorage reopened(dir.file("study.db"));
  CHECK(reopened.study_names() == std::vector<std::string>{"s"});
  const auto record = reopened.find_study("s");
  REQUIRE(record);
  CHECK(record->objectives == std::vector<std::string>{"ppl", "size_ratio"});
  CHECK(record->space_fingerprint == "0123456789abcdef");
  CHECK(record->config == nlohmann::json{{"seed", 3}});
  const auto trials = reopened.load_trials("s");
  REQUIRE(trials.size() == 1);
  const Trial& back = trials[0];
  CHECK(back.number == 7);
  CHECK(back.state == TrialState::kPruned);
  CHECK(back.params == trial.params);
  CHECK(back.pipeline == trial.pipeline);
  CHECK(back.values.at("ppl") == 12.5);
  CHECK(std::isnan(back.values.at("kl")));
  CHECK(back.constraints == trial.constraints);
  CHECK(back.intermediates == trial.intermediates);
  CHECK(back.evaluation == trial.evaluation);
  REQUIRE(back.step_times.size() == 1);
  CHECK(back.step_times[0].method == "smoothquant");
  CHECK(back.step_times[0].seconds == 1.5);
  CHECK(back.error == trial.error);
  CHECK(back.started_at == trial.started_at);
  CHECK(back.duration_s == 2.0);
  CHECK_THROWS_WITH(reopened.create_study({"s", {"ppl"}, "x", nullptr, nullptr, ""}), Catch::Contains("already holds"));
}

TEST_CASE("resume redoes a trial left running and ends with exactly N trials", "[search][storage][resume]") {
  TempDir dir("search");
  const auto space = pipelines();
  const std::string path = dir.file("study.db");
  std::vector<nlohmann::json> uninterrupted;
  {
    Study reference(space.space(), options_for(space), make_sampler("bayesian", {5, 12}));
    reference.optimize(12, fake_evaluation);
    uninterrupted = params_of(reference.trials());
  }
  {
    Study first(space.space(), options_for(space), make_sampler("bayesian", {5, 12}),
                std::make_shared<StudyStorage>(path));
    first.optimize(6, fake_evaluation);
  }
  {
    // What a process killed during trial 6 leaves behind: its row, still 'running'.
    StudyStorage storage(path);
    Trial running;
    running.number = 6;
    running.params = uninterrupted[6];
    storage.write_trial("study", running);
    CHECK(storage.load_trials("study").size() == 7);
  }
  Study resumed(space.space(), options_for(space), make_sampler("bayesian", {5, 12}),
                std::make_shared<StudyStorage>(path), true);
  CHECK(resumed.redone_trials() == std::vector<int>{6});
  CHECK(resumed.trials().size() == 6);
  CHECK(resumed.optimize(12, fake_evaluation) == 6);
  const auto stored = StudyStorage(path).load_trials("study");
  REQUIRE(stored.size() == 12);
  for (int i = 0; i < 12; ++i) {
    CHECK(stored[i].number == i);
    CHECK(stored[i].finished());
  }
  // Sampling depends on (seed, number, history) only: the resumed study is the uninterrupted one.
  CHECK(params_of(stored) == uninterrupted);
  // A finished study resumes to nothing more.
  Study done(space.space(), options_for(space), make_sampler("bayesian", {5, 12}), std::make_shared<StudyStorage>(path), true);
  CHECK(done.optimize(12, fake_evaluation) == 0);
}

TEST_CASE("a study killed by SIGKILL mid-trial resumes to exactly N trials", "[search][storage][resume]") {
  TempDir dir("search");
  const auto space = pipelines();
  const std::string path = dir.file("study.db");
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child runs the search and dies without any cleanup in the middle of trial 4.
    Study study(space.space(), options_for(space), make_sampler("bayesian", {5, 10}),
                std::make_shared<StudyStorage>(path));
    study.optimize(10, [](const Trial& trial, TrialReporter& reporter) {
      if (trial.number == 4) ::kill(::getpid(), SIGKILL);
      return fake_evaluation(trial, reporter);
    });
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  Study resumed(space.space(), options_for(space), make_sampler("bayesian", {5, 10}),
                std::make_shared<StudyStorage>(path), true);
  CHECK(resumed.redone_trials() == std::vector<int>{4});
  resumed.optimize(10, fake_evaluation);
  const auto stored = StudyStorage(path).load_trials("study");
  REQUIRE(stored.size() == 10);
  std::set<int> numbers;
  for (const auto& trial : stored) numbers.insert(trial.number);
  CHECK(numbers.size() == 10);
  CHECK(*numbers.rbegin() == 9);
  CHECK(count_trials(stored).finished() == 10);
}

TEST_CASE("two studies never mix in one study file", "[search][storage][resume]") {
  TempDir dir("search");
  const std::string path = dir.file("study.db");
  const auto space = pipelines();
  {
    Study study(space.space(), options_for(space), make_sampler("random", {1, 2}), std::make_shared<StudyStorage>(path));
    study.optimize(2, fake_evaluation);
  }
  // Starting again without --resume.
  CHECK_THROWS_WITH(Study(space.space(), options_for(space), make_sampler("random", {1, 2}),
                          std::make_shared<StudyStorage>(path)),
                    Catch::Contains("already holds study 'study' (2 trials)") && Catch::Contains("--resume"));
  // Resuming over a different space (a plugin was added).
  auto plugins = builtin_like_plugins();
  plugins.push_back({"toy_quant", PluginKind::kQuantization, ParameterSpace::parse(R"({"parameters": []})", "toy")});
  const PipelineSpace other(plugins, {true});
  CHECK_THROWS_WITH(Study(other.space(), options_for(other), make_sampler("random", {1, 2}),
                          std::make_shared<StudyStorage>(path), true),
                    Catch::Contains("different search space") && Catch::Contains(path));
  // Resuming a name the file does not hold.
  CHECK_THROWS_WITH(Study(space.space(), options_for(space, "other"), make_sampler("random", {1, 2}),
                          std::make_shared<StudyStorage>(path), true),
                    Catch::Contains("holds no study named 'other'") && Catch::Contains("it holds: study"));
  // Resuming with other objectives.
  auto pareto = options_for(space);
  pareto.objectives = {"ppl", "size_ratio"};
  CHECK_THROWS_WITH(Study(space.space(), pareto, make_sampler("random", {1, 2}), std::make_shared<StudyStorage>(path), true),
                    Catch::Contains("optimises {ppl}"));
  // Not a study file at all.
  {
    std::ofstream junk(dir.file("junk.db"));
    junk << "this is not sqlite, just text that is long enough to fill a header page............................";
  }
  CHECK_THROWS_WITH(StudyStorage(dir.file("junk.db")), Catch::Contains("junk.db"));
}
