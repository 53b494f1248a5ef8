#include "compactmind/search/tpe_sampler.h"

#include "compactmind/search/multivariate_parzen_estimator.h"
#include "compactmind/search/pareto.h"
#include "compactmind/search/parzen_estimator.h"
#include "compactmind/search/random_draws.h"
#include "compactmind/search/random_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

namespace compactmind::search {
namespace {

constexpr double kEps = 1e-12;

std::vector<double> objective_values(const Trial& trial, const std::vector<std::string>& objectives) {
  std::vector<double> values;
  for (const auto& objective : objectives) {
    const auto value = trial.value(objective);
    values.push_back(value && !std::isnan(*value) ? *value : std::numeric_limits<double>::infinity());
  }
  return values;
}

// Optuna's _calculate_weights_below_for_multi_objective: the hypervolume each feasible complete below
// trial adds to the front of the below group, normalised by the largest; EPS for the others.
std::vector<double> multi_objective_below_weights(const std::vector<const Trial*>& below,
                                                  const std::vector<std::string>& objectives) {
  std::vector<double> weights(below.size(), kEps);
  std::vector<size_t> usable;
  std::vector<std::vector<double>> points;
  for (size_t i = 0; i < below.size(); ++i) {
    if (below[i]->state != TrialState::kComplete || !below[i]->feasible()) continue;
    usable.push_back(i);
    points.push_back(objective_values(*below[i], objectives));
    weights[i] = 1.0;
  }
  if (usable.size() <= 1 || objectives.size() != 2) return weights;
  const auto reference = reference_point(points);
  const auto ranks = non_dominated_ranks(points);
  std::vector<std::vector<double>> front;
  for (size_t j = 0; j < points.size(); ++j)
    if (ranks[j] == 0) front.push_back(points[j]);
  const double volume = hypervolume_2d(front, reference);
  std::vector<double> contributions(points.size(), 0.0);
  for (size_t j = 0; j < points.size(); ++j) {
    if (ranks[j] != 0) continue;
    std::vector<std::vector<double>> without;
    for (size_t m = 0; m < points.size(); ++m)
      if (m != j && ranks[m] == 0) without.push_back(points[m]);
    contributions[j] = volume - hypervolume_2d(without, reference);
  }
  const double top = std::max(kEps, *std::max_element(contributions.begin(), contributions.end()));
  for (size_t j = 0; j < usable.size(); ++j) weights[usable[j]] = std::max(contributions[j] / top, kEps);
  return weights;
}

// A dimension with a single legal value teaches nothing (Optuna drops `single()` distributions from
// the relative search space).
bool single_valued(const ParameterSpec& spec) {
  switch (spec.type) {
    case ParameterType::kBool: return false;
    case ParameterType::kCategorical: return spec.choices.size() <= 1;
    case ParameterType::kInt:
    case ParameterType::kFloat: return spec.high <= spec.low;
  }
  return false;
}

bool holds_all(const Trial& trial, const std::vector<const Dimension*>& dimensions) {
  for (const auto* dimension : dimensions) {
    const auto found = trial.params.find(dimension->name);
    if (found == trial.params.end() || !value_fits(dimension->spec, *found)) return false;
  }
  return true;
}

}  // namespace

std::vector<std::vector<std::string>> TpeSampler::group_decomposition(const std::vector<const Trial*>& trials,
                                                                      const SearchSpace& space) {
  // Optuna's _GroupDecomposedSearchSpace: each trial's parameter set splits every group into the part
  // it holds and the part it lacks; its parameters in no group yet form a new group. The result is a
  // partition in which every group is, in each trial, either wholly present or wholly absent.
  std::vector<std::set<std::string>> groups;
  for (const Trial* trial : trials) {
    std::set<std::string> names;
    for (const auto& dimension : space.dimensions())
      if (!single_valued(dimension.spec) && trial->params.contains(dimension.name)) names.insert(dimension.name);
    std::vector<std::set<std::string>> next;
    std::set<std::string> covered;
    for (const auto& group : groups) {
      std::set<std::string> inside, outside;
      for (const auto& name : group) (names.count(name) ? inside : outside).insert(name);
      covered.insert(inside.begin(), inside.end());
      if (!inside.empty()) next.push_back(std::move(inside));
      if (!outside.empty()) next.push_back(std::move(outside));
    }
    std::set<std::string> fresh;
    for (const auto& name : names)
      if (!covered.count(name)) fresh.insert(name);
    if (!fresh.empty()) next.push_back(std::move(fresh));
    groups = std::move(next);
  }
  // In the space's order (groups by their first dimension), so sampling order is stable.
  std::vector<std::vector<std::string>> ordered;
  std::set<size_t> placed;
  for (const auto& dimension : space.dimensions())
    for (size_t g = 0; g < groups.size(); ++g)
      if (!placed.count(g) && groups[g].count(dimension.name)) {
        placed.insert(g);
        std::vector<std::string> members;
        for (const auto& member : space.dimensions())
          if (groups[g].count(member.name)) members.push_back(member.name);
        ordered.push_back(std::move(members));
      }
  return ordered;
}

int optuna_default_gamma(int n) { return std::min(static_cast<int>(std::ceil(0.1 * n)), 25); }

int default_startup_trials(int n_trials) { return std::min(10, std::max(3, n_trials / 4)); }

TpeSampler::TpeSampler(TpeOptions options) : options_(std::move(options)) {
  if (!options_.gamma) options_.gamma = optuna_default_gamma;
  if (options_.n_ei_candidates < 1) throw std::invalid_argument("tpe: n_ei_candidates must be at least 1");
}

std::vector<size_t> TpeSampler::split_below(const std::vector<const Trial*>& trials, size_t n_below,
                                            const std::vector<std::string>& objectives) {
  std::vector<size_t> complete, pruned, infeasible;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (trials[i]->violation() > 0) infeasible.push_back(i);
    else if (trials[i]->state == TrialState::kComplete) complete.push_back(i);
    else if (trials[i]->state == TrialState::kPruned) pruned.push_back(i);
  }
  std::vector<size_t> below;
  const size_t n_complete = std::min(n_below, complete.size());
  if (objectives.size() <= 1) {
    std::stable_sort(complete.begin(), complete.end(), [&](size_t a, size_t b) {
      return objective_values(*trials[a], objectives)[0] < objective_values(*trials[b], objectives)[0];
    });
    below.assign(complete.begin(), complete.begin() + static_cast<long>(n_complete));
  } else if (n_complete == complete.size()) {
    below = complete;
  } else if (n_complete > 0) {
    // Whole non-dominated ranks while they fit, then a hypervolume subset of the boundary rank.
    std::vector<std::vector<double>> points;
    for (const size_t i : complete) points.push_back(objective_values(*trials[i], objectives));
    const auto ranks = non_dominated_ranks(points);
    for (int rank = 0; below.size() < n_complete; ++rank) {
      std::vector<size_t> members;
      for (size_t j = 0; j < complete.size(); ++j)
        if (ranks[j] == rank) members.push_back(j);
      if (below.size() + members.size() <= n_complete) {
        for (const size_t j : members) below.push_back(complete[j]);
        continue;
      }
      std::vector<std::vector<double>> boundary;
      for (const size_t j : members) boundary.push_back(points[j]);
      const size_t wanted = n_complete - below.size();
      if (objectives.size() == 2) {
        for (const size_t m : select_by_hypervolume(boundary, wanted, reference_point(boundary)))
          below.push_back(complete[members[m]]);
      } else {  // no exact hypervolume beyond 2-D here: keep the first objective's best
        std::stable_sort(members.begin(), members.end(), [&](size_t a, size_t b) { return points[a][0] < points[b][0]; });
        for (size_t m = 0; m < wanted; ++m) below.push_back(complete[members[m]]);
      }
    }
  }
  size_t remaining = n_below - below.size();
  // Pruned trials: the furthest step first, then its value (Optuna's _get_pruned_trial_score).
  auto pruned_score = [&](size_t i) {
    const auto& intermediates = trials[i]->intermediates;
    if (intermediates.empty()) return std::make_pair(1.0, 0.0);
    const auto& [step, value] = *intermediates.rbegin();
    return std::make_pair(-static_cast<double>(step), std::isnan(value) ? INFINITY : value);
  };
  std::stable_sort(pruned.begin(), pruned.end(), [&](size_t a, size_t b) { return pruned_score(a) < pruned_score(b); });
  for (size_t j = 0; j < pruned.size() && remaining > 0; ++j, --remaining) below.push_back(pruned[j]);
  std::stable_sort(infeasible.begin(), infeasible.end(),
                   [&](size_t a, size_t b) { return trials[a]->violation() < trials[b]->violation(); });
  for (size_t j = 0; j < infeasible.size() && remaining > 0; ++j, --remaining) below.push_back(infeasible[j]);
  std::sort(below.begin(), below.end());
  return below;
}

nlohmann::json TpeSampler::sample_alone(const Dimension& dimension, const std::vector<const Trial*>& below,
                                        const std::vector<const Trial*>& above, const std::vector<double>& mo_weights,
                                        bool multi_objective, std::mt19937_64& rng) const {
  // Only the trials where this dimension appeared teach its estimators.
  auto observe = [&](const std::vector<const Trial*>& trials, std::vector<nlohmann::json>& values,
                     std::vector<double>* picked_weights) {
    for (size_t i = 0; i < trials.size(); ++i) {
      const auto found = trials[i]->params.find(dimension.name);
      if (found == trials[i]->params.end() || !value_fits(dimension.spec, *found)) continue;
      values.push_back(*found);
      if (picked_weights) picked_weights->push_back(mo_weights[i]);
    }
  };
  std::vector<nlohmann::json> below_values, above_values;
  std::vector<double> below_weights;
  observe(below, below_values, multi_objective ? &below_weights : nullptr);
  observe(above, above_values, nullptr);
  if (!multi_objective) below_weights = default_observation_weights(below_values.size());
  const ParzenEstimator good(dimension.spec, below_values, below_weights, options_.prior_weight);
  const ParzenEstimator bad(dimension.spec, above_values, default_observation_weights(above_values.size()),
                            options_.prior_weight);
  nlohmann::json best;
  double best_score = -std::numeric_limits<double>::infinity();
  for (int c = 0; c < options_.n_ei_candidates; ++c) {
    nlohmann::json candidate = good.to_external(good.sample_internal(rng));
    const double x = good.to_internal(candidate);
    const double score = good.log_pdf_internal(x) - bad.log_pdf_internal(x);
    if (best.is_null() || score > best_score) best_score = score, best = std::move(candidate);
  }
  return best;
}

std::vector<nlohmann::json> TpeSampler::sample_group(const std::vector<const Dimension*>& members,
                                                     const std::vector<const Trial*>& below,
                                                     const std::vector<const Trial*>& above,
                                                     const std::vector<double>& mo_weights, bool multi_objective,
                                                     std::mt19937_64& rng) const {
  std::vector<ParameterSpec> specs;
  for (const auto* member : members) specs.push_back(member->spec);
  // Only the trials holding every member teach the group (Optuna's _get_internal_repr).
  auto observe = [&](const std::vector<const Trial*>& trials, std::vector<double>* picked_weights) {
    std::vector<std::vector<nlohmann::json>> values;
    for (size_t i = 0; i < trials.size(); ++i) {
      if (!holds_all(*trials[i], members)) continue;
      std::vector<nlohmann::json> row;
      for (const auto* member : members) row.push_back(trials[i]->params.at(member->name));
      values.push_back(std::move(row));
      if (picked_weights) picked_weights->push_back(mo_weights[i]);
    }
    return values;
  };
  std::vector<double> below_weights;
  const auto below_values = observe(below, multi_objective ? &below_weights : nullptr);
  const auto above_values = observe(above, nullptr);
  if (!multi_objective) below_weights = default_observation_weights(below_values.size());
  const MultivariateParzenEstimator good(specs, below_values, below_weights, options_.prior_weight);
  const MultivariateParzenEstimator bad(specs, above_values, default_observation_weights(above_values.size()),
                                        options_.prior_weight);
  std::vector<nlohmann::json> best;
  double best_score = -std::numeric_limits<double>::infinity();
  for (int c = 0; c < options_.n_ei_candidates; ++c) {
    auto candidate = good.to_external(good.sample_internal(rng));
    const auto x = good.to_internal(candidate);
    const double score = good.log_pdf_internal(x) - bad.log_pdf_internal(x);
    if (best.empty() || score > best_score) best_score = score, best = std::move(candidate);
  }
  return best;
}

std::optional<nlohmann::json> TpeSampler::sample(const SamplingContext& context) {
  auto rng = trial_rng(options_.seed, context.trial_number);
  std::vector<const Trial*> considered;
  for (const auto& trial : context.history)
    if (trial.state == TrialState::kComplete || trial.state == TrialState::kPruned) considered.push_back(&trial);
  if (static_cast<int>(considered.size()) < options_.n_startup_trials)
    return sample_point_uniform(context.space, rng);

  const int n_below = std::max(0, options_.gamma(static_cast<int>(considered.size())));
  const auto below_indices = split_below(considered, static_cast<size_t>(n_below), context.objectives);
  std::vector<bool> is_below(considered.size(), false);
  for (const size_t i : below_indices) is_below[i] = true;
  std::vector<const Trial*> below, above;
  for (size_t i = 0; i < considered.size(); ++i) (is_below[i] ? below : above).push_back(considered[i]);
  const bool multi_objective = context.objectives.size() > 1;
  const std::vector<double> mo_weights =
      multi_objective ? multi_objective_below_weights(below, context.objectives) : std::vector<double>{};

  // Multivariate + group (Optuna's multivariate=True, group=True): the dimensions that always appear
  // together are sampled jointly, from the trials that hold them all, when the first of them is
  // reached; a group member that is inactive in this point is dropped, as Optuna ignores a relative
  // sample the objective does not suggest. Dimensions in no group (never seen) are sampled alone.
  std::map<std::string, size_t> group_of;
  std::vector<std::vector<const Dimension*>> groups;
  if (options_.multivariate) {
    for (const auto& names : group_decomposition(considered, context.space)) {
      std::vector<const Dimension*> members;
      for (const auto& name : names) members.push_back(context.space.find(name));
      for (const auto& name : names) group_of[name] = groups.size();
      groups.push_back(std::move(members));
    }
  }
  std::map<std::string, nlohmann::json> group_values;

  nlohmann::json point = nlohmann::json::object();
  for (const auto& dimension : context.space.dimensions()) {
    if (!SearchSpace::is_active(dimension, point)) continue;
    if (const auto found = group_values.find(dimension.name); found != group_values.end()) {
      point[dimension.name] = found->second;
      continue;
    }
    if (const auto group = group_of.find(dimension.name); group != group_of.end()) {
      const auto& members = groups[group->second];
      const auto values = sample_group(members, below, above, mo_weights, multi_objective, rng);
      for (size_t d = 0; d < members.size(); ++d) group_values[members[d]->name] = values[d];
      point[dimension.name] = group_values[dimension.name];
      continue;
    }
    point[dimension.name] = sample_alone(dimension, below, above, mo_weights, multi_objective, rng);
  }
  return point;
}

}  // namespace compactmind::search
