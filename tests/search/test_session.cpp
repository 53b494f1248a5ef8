#include "compactmind/search/search_session.h"
#include "test_helpers.h"
#include "support/temp_dir.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace compactmind;
using namespace compactmind::search;
using compactmind::search::testing::builtin_like_plugins;
using compactmind::test::TempDir;

namespace {

TrialOutcome evaluate(const Trial& trial, TrialReporter& reporter) {
  double ppl = 10.0, size = 1.0;
  for (const auto& step : trial.pipeline) {
    if (step["method"] == "llm_pruner") ppl += 20 * step["ratio"].get<double>(), size -= step["ratio"].get<double>();
    if (step["method"] == "smoothquant") ppl += std::fabs(step["alpha"].get<double>() - 0.5), size *= 0.3;
  }
  reporter.set_value("size_ratio", size);
  if (reporter.report(0, ppl * 1.1)) throw TrialPruned("pruned at chunk 0");
  return {{{"ppl", ppl}, {"size_ratio", size}}, {}, {{"windows", 2}}};
}

SearchSettings settings_with(uint64_t seed) {
  SearchSettings settings;
  settings.n_trials = 16;
  settings.seed = seed;
  settings.retrain = true;
  settings.target_ratio = 0.6;
  settings.pruner = {true, 3, 0, 1};
  return settings;
}

}  // namespace

TEST_CASE("a search session adds the size constraint and summarises the study", "[search][session]") {
  SearchSession session(builtin_like_plugins(), settings_with(2));
  std::vector<std::string> lines;
  CHECK(session.run(evaluate, [&](const Trial& trial) { lines.push_back(session.progress_line(trial)); }) == 16);
  REQUIRE(lines.size() == 16);
  CHECK(lines[0].rfind("trial 1/16 ", 0) == 0);
  for (const auto& trial : session.study().trials()) {
    REQUIRE(trial.value("size_ratio"));
    // Pruned trials keep the size given early, and so their feasibility.
    REQUIRE(trial.constraints.size() == 1);
    CHECK(trial.constraints[0] == Approx(*trial.value("size_ratio") - 0.6));
    const std::string& line = lines[trial.number];
    if (trial.state == TrialState::kPruned) CHECK(line.find("pruned at chunk 0 (ppl ") != std::string::npos);
    if (trial.state == TrialState::kComplete && !trial.feasible()) CHECK(line.find(" > 0.6") != std::string::npos);
    CHECK(line.find(describe_pipeline(trial.pipeline)) != std::string::npos);
  }
  const auto summary = session.summary_json();
  const auto counts = count_trials(session.study().trials());
  CHECK(summary["counts"]["complete"] == counts.complete);
  CHECK(summary["counts"]["pruned"] == counts.pruned);
  CHECK(summary["counts"]["infeasible"] == counts.infeasible);
  CHECK(counts.complete + counts.pruned + counts.infeasible + counts.failed == 16);
  const auto best = session.best();
  REQUIRE(best);
  CHECK(summary["best"]["number"] == best->number);
  CHECK(summary["best"]["ppl"] == *best->value("ppl"));
  CHECK(summary["best"]["size_ratio"].get<double>() <= 0.6);
  CHECK(summary["best"]["pipeline"] == best->pipeline);
  CHECK(summary["best"]["evaluation"] == nlohmann::json{{"windows", 2}});
  CHECK(summary["pareto_front"].size() == session.pareto().size());
  const auto input = session.report_input();
  CHECK(input.trials.size() == 16);
  CHECK(input.summary["strategy"] == "bayesian");
  CHECK(*input.target_ratio == 0.6);
}

TEST_CASE("a search session resumes only with the options its study was run with", "[search][session]") {
  TempDir dir("search");
  auto settings = settings_with(4);
  settings.storage = dir.file("study.db");
  settings.n_trials = 5;
  {
    SearchSession session(builtin_like_plugins(), settings);
    session.run(evaluate);
  }
  settings.resume = true;
  settings.n_trials = 8;  // extending the budget is fine
  {
    SearchSession session(builtin_like_plugins(), settings);
    CHECK(session.run(evaluate) == 3);
    CHECK(session.study().trials().size() == 8);
  }
  settings.seed = 5;
  CHECK_THROWS_WITH(SearchSession(builtin_like_plugins(), settings),
                    Catch::Contains("was run with seed = 4, not 5") && Catch::Contains("study.db"));
  settings.seed = 4;
  settings.target_ratio = 0.5;
  CHECK_THROWS_WITH(SearchSession(builtin_like_plugins(), settings), Catch::Contains("target_ratio = 0.6, not 0.5"));
  settings.target_ratio = 0.6;
  settings.retrain = false;  // a different space
  CHECK_THROWS_WITH(SearchSession(builtin_like_plugins(), settings), Catch::Contains("different search space"));
}

TEST_CASE("search settings are checked before anything runs", "[search][session]") {
  auto settings = settings_with(1);
  settings.objective = "latency";
  CHECK_THROWS_WITH(SearchSession(builtin_like_plugins(), settings), Catch::Contains("expected ppl or pareto"));
  settings = settings_with(1);
  settings.resume = true;
  CHECK_THROWS_WITH(SearchSession(builtin_like_plugins(), settings), Catch::Contains("--resume needs the study file"));
  settings = settings_with(1);
  settings.strategy = "hyperband";
  CHECK_THROWS_WITH(SearchSession(builtin_like_plugins(), settings), Catch::Contains("unknown search strategy 'hyperband'"));
  settings = settings_with(1);
  settings.objective = "pareto";
  SearchSession pareto(builtin_like_plugins(), settings);
  CHECK(pareto.study().options().objectives == std::vector<std::string>{"ppl", "size_ratio"});
}
