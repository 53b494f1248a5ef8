// One trial of a study: what was sampled, what happened, what it scored.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace compactmind::search {

// Infeasibility is not a state: it is a flag of complete trials (`feasible()`), as in Optuna.
enum class TrialState { kRunning, kComplete, kPruned, kFailed };

std::string to_string(TrialState state);
TrialState parse_trial_state(const std::string& text);  // throws std::invalid_argument

struct StepTime {
  std::string method;
  double seconds = 0.0;
};

struct Trial {
  int number = 0;
  TrialState state = TrialState::kRunning;
  nlohmann::json params = nlohmann::json::object();  // the sampled point (active dimensions only)
  nlohmann::json pipeline;                           // steps [{"method": NAME, ...}] (null if none)
  std::map<std::string, double> values;              // "ppl", "size_ratio", anything else measured
  // Optuna's constraints_func convention: each value ≤ 0 means satisfied; empty = unconstrained.
  std::vector<double> constraints;
  std::map<int, double> intermediates;  // step (evaluation chunk) → intermediate objective value
  nlohmann::json evaluation;            // the evaluator's record (null if none)
  std::vector<StepTime> step_times;
  std::string error;       // why it failed or was pruned
  std::string started_at;  // ISO-8601 UTC
  std::string finished_at;
  double duration_s = 0.0;

  bool finished() const { return state != TrialState::kRunning; }
  // Total violation: the sum of the positive constraint values (Optuna's infeasible-trial score).
  double violation() const;
  bool feasible() const { return violation() <= 0.0; }
  // The named value, or nullopt when the trial does not hold it.
  std::optional<double> value(const std::string& name) const;
};

nlohmann::json to_json(const Trial& trial);
Trial trial_from_json(const nlohmann::json& json);  // throws std::invalid_argument

// The trials a strategy ranks as "best": complete, feasible, lowest `objective`.
std::optional<Trial> best_trial(const std::vector<Trial>& trials, const std::string& objective);

struct TrialCounts {
  int complete = 0;    // feasible complete trials
  int infeasible = 0;  // complete trials violating a constraint
  int pruned = 0;
  int failed = 0;
  int running = 0;
  int finished() const { return complete + infeasible + pruned + failed; }
};
TrialCounts count_trials(const std::vector<Trial>& trials);

std::string utc_now_iso8601();

}  // namespace compactmind::search
