#include "compactmind/search/median_pruner.h"

#include <algorithm>
#include <cmath>

namespace compactmind::search {

bool MedianPruner::should_prune(const Trial& current, int step, const std::vector<Trial>& history) const {
  if (!options_.enabled || step < options_.n_warmup_steps) return false;
  int n_complete = 0;
  std::vector<double> at_step;
  for (const auto& trial : history) {
    if (trial.state != TrialState::kComplete) continue;
    ++n_complete;
    const auto found = trial.intermediates.find(step);
    if (found != trial.intermediates.end() && !std::isnan(found->second)) at_step.push_back(found->second);
  }
  if (n_complete < options_.n_startup_trials) return false;
  if (static_cast<int>(at_step.size()) < std::max(1, options_.n_min_trials)) return false;
  // Optuna compares the trial's best value so far (minimisation) and prunes a NaN outright.
  double best = INFINITY;
  for (const auto& [reported_step, value] : current.intermediates) {
    if (reported_step > step) continue;
    if (std::isnan(value)) return true;
    best = std::min(best, value);
  }
  // Median with linear interpolation (numpy's percentile 50).
  std::sort(at_step.begin(), at_step.end());
  const size_t n = at_step.size();
  const double median = n % 2 ? at_step[n / 2] : 0.5 * (at_step[n / 2 - 1] + at_step[n / 2]);
  return best > median;
}

}  // namespace compactmind::search
