// Everything `compactmind search` needs around the host's evaluation, so the command stays thin:
// settings as the CLI gives them → pipeline space, sampler, study (in memory or in a study file,
// fresh or resumed), the size constraint, progress lines, the --json summary and the report input.
//
//   SearchSession session(plugin_entries, settings);               // throws with a clear message
//   session.run([&](const Trial& trial, TrialReporter& reporter) {  // the host's executor + evaluator
//     ... apply trial.pipeline, evaluate in chunks, reporter.report(chunk, ppl) ...
//     return TrialOutcome{{{"ppl", ppl}, {"size_ratio", ratio}}, {}, record};
//   });
//   session.summary_json(); write_report(dir, session.report_input());
#pragma once

#include "compactmind/search/pipeline_space.h"
#include "compactmind/search/report_writer.h"
#include "compactmind/search/study.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace compactmind::search {

struct SearchSettings {
  std::string strategy = "bayesian";  // bayesian | random | grid
  int n_trials = 30;
  uint64_t seed = 0;
  bool retrain = false;
  std::optional<double> target_ratio;  // hard constraint size_ratio ≤ target
  std::string objective = "ppl";       // ppl | pareto (ppl and size_ratio)
  std::string storage;                 // study file; empty = in memory
  bool resume = false;
  std::string study_name = "compactmind";
  int n_startup_trials = -1;  // -1 = default_startup_trials(n_trials)
  int grid_points = 3;
  PrunerOptions pruner;
  nlohmann::json extra = nlohmann::json::object();  // recorded with the study (model, eval windows...)
};

class SearchSession {
 public:
  static constexpr const char* kPpl = "ppl";
  static constexpr const char* kSizeRatio = "size_ratio";

  // Validates the settings, builds the space and opens or resumes the study. Resuming checks that the
  // stored study was run with the same strategy, seed, retrain, target ratio and objective.
  SearchSession(std::vector<PluginEntry> plugins, SearchSettings settings);

  // Runs the study to settings.n_trials finished trials. The objective must return "ppl" and
  // "size_ratio"; the size constraint (size_ratio − target) is added here, also to pruned trials whose
  // size was given with reporter.set_value("size_ratio", r). `on_trial_end` gets each finished trial
  // (e.g. to print progress_line). Returns the number of trials run now.
  int run(const Objective& objective, const std::function<void(const Trial&)>& on_trial_end = {});

  const PipelineSpace& pipeline_space() const { return pipeline_space_; }
  const Study& study() const { return *study_; }
  const SearchSettings& settings() const { return settings_; }
  std::optional<Trial> best() const;  // feasible complete trial of lowest PPL
  std::vector<Trial> pareto() const;  // feasible (ppl, size_ratio) front

  // "trial 3/30 complete  ppl 12.34  size 0.552  best 11.20 (#1)  4.1 s  llm_pruner(ratio=0.2) → ..."
  std::string progress_line(const Trial& trial) const;
  // {"study", "strategy", "n_trials", "counts": {complete, pruned, failed, infeasible}, "best": {number,
  //  ppl, size_ratio, params, pipeline, evaluation} | null, "pareto_front": [{number, ppl, size_ratio}]}
  nlohmann::json summary_json() const;
  ReportInput report_input() const;

 private:
  SearchSettings settings_;
  PipelineSpace pipeline_space_;
  std::function<void(const Trial&)> on_trial_end_;
  std::unique_ptr<Study> study_;
};

}  // namespace compactmind::search
