// Tree-structured Parzen Estimator with Optuna's semantics (TPESampler, multivariate=False):
//   - the first n_startup_trials trials (complete + pruned count) are sampled uniformly;
//   - then the complete+pruned history is split into "below" (good) and "above": n_below =
//     gamma(n) = min(ceil(0.1·n), 25); feasible complete trials first (by value, or for several
//     objectives by non-dominated rank with a hypervolume subset selection on the boundary rank), then
//     pruned ones (furthest step first, then intermediate value), then infeasible ones (by total
//     constraint violation);
//   - each active dimension, in order, gets a ParzenEstimator l from the below trials and g from the
//     above trials that hold it (conditional dimensions learn only from trials where they appeared),
//     24 candidates are drawn from l and the one maximising log l(x) − log g(x) is kept.
// Multi-objective (MOTPE-like): below weights are the hypervolume contributions of the feasible
// below trials, EPS for the others (Optuna's _calculate_weights_below_for_multi_objective).
#pragma once

#include "compactmind/search/sampler.h"

#include <functional>
#include <vector>

namespace compactmind::search {

struct TpeOptions {
  uint64_t seed = 0;
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  double prior_weight = 1.0;
  std::function<int(int)> gamma;  // empty = optuna_default_gamma
};

int optuna_default_gamma(int n);
// Optuna's default of 10 startup trials means a 10-trial TPE never leaves random search (Optuna
// issue 6723); ours scales with the budget: min(10, max(3, n_trials / 4)) — 3 of 10, 7 of 30, 10 from
// 40 on.
int default_startup_trials(int n_trials);

class TpeSampler : public Sampler {
 public:
  explicit TpeSampler(TpeOptions options);
  std::string name() const override { return "bayesian"; }
  std::optional<nlohmann::json> sample(const SamplingContext& context) override;

  // The indices into `trials` of the below (good) group; the rest of the complete/pruned trials are
  // above. Exposed for tests.
  static std::vector<size_t> split_below(const std::vector<const Trial*>& trials, size_t n_below,
                                         const std::vector<std::string>& objectives);

 private:
  TpeOptions options_;
};

}  // namespace compactmind::search
