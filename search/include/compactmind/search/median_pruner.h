// Optuna's MedianPruner: a trial is stopped at step s when its best intermediate value so far is worse
// than the median of the values the complete trials reported at step s. Nothing is pruned before
// n_startup_trials trials have completed, before step n_warmup_steps, or when fewer than
// n_min_trials complete trials reported step s.
#pragma once

#include "compactmind/search/trial.h"

#include <vector>

namespace compactmind::search {

struct PrunerOptions {
  bool enabled = true;
  int n_startup_trials = 5;  // Optuna's default
  int n_warmup_steps = 0;
  int n_min_trials = 1;
};

class MedianPruner {
 public:
  explicit MedianPruner(PrunerOptions options) : options_(options) {}
  // `current` holds the intermediate values reported so far (the step just reported included).
  bool should_prune(const Trial& current, int step, const std::vector<Trial>& history) const;
  const PrunerOptions& options() const { return options_; }

 private:
  PrunerOptions options_;
};

}  // namespace compactmind::search
