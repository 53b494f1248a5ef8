// A study: the loop that asks a sampler for a point, runs the objective, records the trial (in a
// SQLite file when given) and goes on until the study holds n_trials finished trials.
#pragma once

#include "compactmind/search/median_pruner.h"
#include "compactmind/search/sampler.h"
#include "compactmind/search/search_space.h"
#include "compactmind/search/study_storage.h"
#include "compactmind/search/trial.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace compactmind::search {

// Thrown by an objective to stop its trial and record it as pruned (Optuna's TrialPruned).
class TrialPruned : public std::runtime_error {
 public:
  explicit TrialPruned(const std::string& why = "pruned") : std::runtime_error(why) {}
};

// Given to the objective: intermediate values and anything worth keeping if the trial stops early.
class TrialReporter {
 public:
  TrialReporter(Trial& trial, const MedianPruner& pruner, const std::vector<Trial>& history)
      : trial_(trial), pruner_(pruner), history_(history) {}
  // Records the objective's intermediate value at `step` (an evaluation chunk); true = stop now
  // (throw TrialPruned).
  bool report(int step, double intermediate_value);
  void add_step_time(const std::string& method, double seconds);
  // A value known before the end (e.g. "size_ratio" right after compression), kept if pruned.
  void set_value(const std::string& name, double value);
  // Constraint values known before the evaluation ends (e.g. the size ratio), kept if pruned.
  void set_constraints(std::vector<double> constraints);
  void set_evaluation(nlohmann::json evaluation);

 private:
  Trial& trial_;
  const MedianPruner& pruner_;
  const std::vector<Trial>& history_;
};

struct TrialOutcome {
  std::map<std::string, double> values;  // must hold every objective, finite
  std::vector<double> constraints;       // ≤ 0 = satisfied (left empty: keeps what the reporter set)
  nlohmann::json evaluation;             // null: keeps what the reporter set
};

// Receives the trial being run (number, params, pipeline); throws TrialPruned to stop, anything else
// to fail the trial.
using Objective = std::function<TrialOutcome(const Trial& trial, TrialReporter& reporter)>;
// Turns a sampled point into the pipeline stored with the trial (e.g. PipelineSpace::to_pipeline).
using PipelineDecoder = std::function<nlohmann::json(const nlohmann::json& point)>;

struct StudyOptions {
  std::string name = "compactmind";
  std::vector<std::string> objectives = {"ppl"};  // minimised; the first ranks "best"
  nlohmann::json config = nlohmann::json::object();
  PrunerOptions pruner;
  PipelineDecoder to_pipeline;
  std::function<void(const Trial&)> on_trial_start;  // progress output
  std::function<void(const Trial&)> on_trial_end;
};

class Study {
 public:
  // With `storage`: resume = false creates the study (error if the file already holds one of that
  // name); resume = true loads it (error if absent, or if its space fingerprint or objectives differ
  // from this one's) and drops trials left running by a dead process — they are redone, with the same
  // number and so the same sampled point. Without storage the study lives in memory.
  Study(SearchSpace space, StudyOptions options, std::unique_ptr<Sampler> sampler,
        std::shared_ptr<StudyStorage> storage = nullptr, bool resume = false);

  // Runs trials until the study holds `n_trials` finished (complete, pruned or failed) trials, or the
  // sampler runs out of points; returns how many it ran now.
  int optimize(int n_trials, const Objective& objective);

  const std::vector<Trial>& trials() const { return trials_; }
  const SearchSpace& space() const { return space_; }
  const StudyOptions& options() const { return options_; }
  const StudyRecord& record() const { return record_; }
  std::vector<int> redone_trials() const { return redone_; }  // numbers dropped on resume
  bool sampler_exhausted() const { return exhausted_; }

 private:
  Trial run_trial(int number, const nlohmann::json& point, const Objective& objective);

  SearchSpace space_;
  StudyOptions options_;
  std::unique_ptr<Sampler> sampler_;
  std::shared_ptr<StudyStorage> storage_;
  MedianPruner pruner_;
  StudyRecord record_;
  std::vector<Trial> trials_;
  std::vector<int> redone_;
  bool exhausted_ = false;
};

}  // namespace compactmind::search
