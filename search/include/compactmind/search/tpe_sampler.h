// Tree-structured Parzen Estimator with Optuna's semantics (TPESampler; multivariate=True, group=True
// by default, as Optuna 5 for one objective):
//   - the first n_startup_trials trials (complete + pruned count) are sampled uniformly;
//   - then the complete+pruned history is split into "below" (good) and "above": n_below =
//     gamma(n) = min(ceil(0.1·n), 25); feasible complete trials first (by value, or for several
//     objectives by non-dominated rank with a hypervolume subset selection on the boundary rank), then
//     pruned ones (furthest step first, then intermediate value), then infeasible ones (by total
//     constraint violation);
//   - the dimensions seen so far are partitioned into groups that appear together in every trial
//     (group_decomposition); walking the space in order, the first active member of a group has the
//     whole group sampled: a MultivariateParzenEstimator l from the below trials and g from the above
//     trials that hold the whole group, 24 joint candidates drawn from l, the one maximising
//     log l(x) − log g(x) kept. A dimension in no group (never seen), or every dimension when
//     multivariate is off, gets univariate ParzenEstimators from the trials that hold it.
// Multi-objective (MOTPE-like): below weights are the hypervolume contributions of the feasible
// below trials, EPS for the others (Optuna's _calculate_weights_below_for_multi_objective).
#pragma once

#include "compactmind/search/sampler.h"

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace compactmind::search {

struct TpeOptions {
  uint64_t seed = 0;
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  double prior_weight = 1.0;
  // Optuna's multivariate=True with group=True: one multivariate estimator per group of dimensions
  // that appear together in the trials (group_decomposition). Off: every dimension alone (Optuna's
  // multivariate=False). Optuna's multivariate without group (the intersection of all trials' spaces)
  // is not offered: in a conditional space that intersection is little more than `mode`.
  bool multivariate = true;
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
  // Optuna's group decomposition of the dimensions held by `trials` (dimensions with a single legal
  // value left out): a partition into groups that are, in every trial, wholly present or wholly
  // absent; groups and their members in the space's order.
  static std::vector<std::vector<std::string>> group_decomposition(const std::vector<const Trial*>& trials,
                                                                   const SearchSpace& space);

 private:
  nlohmann::json sample_alone(const Dimension& dimension, const std::vector<const Trial*>& below,
                              const std::vector<const Trial*>& above, const std::vector<double>& mo_weights,
                              bool multi_objective, std::mt19937_64& rng) const;
  std::vector<nlohmann::json> sample_group(const std::vector<const Dimension*>& members,
                                           const std::vector<const Trial*>& below,
                                           const std::vector<const Trial*>& above,
                                           const std::vector<double>& mo_weights, bool multi_objective,
                                           std::mt19937_64& rng) const;

  TpeOptions options_;
};

}  // namespace compactmind::search
