// Non-dominated sorting and hypervolume in minimisation form (all objectives minimised).
#pragma once

#include "compactmind/search/trial.h"

#include <string>
#include <vector>

namespace compactmind::search {

// Rank 0 = non-dominated, rank 1 = non-dominated once rank 0 is removed, ... (duplicates share a rank).
std::vector<int> non_dominated_ranks(const std::vector<std::vector<double>>& points);
// Hypervolume dominated by `points` up to `reference` (2-D exact; other dimensions throw).
double hypervolume_2d(const std::vector<std::vector<double>>& points, const std::vector<double>& reference);
// Optuna's reference point: 1.1 × the worst value of each objective (0.9 × if negative; EPS for 0).
std::vector<double> reference_point(const std::vector<std::vector<double>>& points);
// Greedy hypervolume subset selection (Optuna's _solve_hssp): `k` indices into `points`.
std::vector<size_t> select_by_hypervolume(const std::vector<std::vector<double>>& points, size_t k,
                                          const std::vector<double>& reference);

// The Pareto front over `objectives` of the feasible complete trials, sorted by the first objective.
std::vector<Trial> pareto_front(const std::vector<Trial>& trials,
                                const std::vector<std::string>& objectives = {"ppl", "size_ratio"});

}  // namespace compactmind::search
