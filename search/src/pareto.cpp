#include "compactmind/search/pareto.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace compactmind::search {
namespace {

constexpr double kEps = 1e-12;

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool strictly = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) strictly = true;
  }
  return strictly;
}

}  // namespace

std::vector<int> non_dominated_ranks(const std::vector<std::vector<double>>& points) {
  std::vector<int> ranks(points.size(), -1);
  size_t assigned = 0;
  for (int rank = 0; assigned < points.size(); ++rank) {
    std::vector<size_t> front;
    for (size_t i = 0; i < points.size(); ++i) {
      if (ranks[i] >= 0) continue;
      bool dominated = false;
      for (size_t j = 0; j < points.size() && !dominated; ++j)
        dominated = j != i && ranks[j] < 0 && dominates(points[j], points[i]);
      if (!dominated) front.push_back(i);
    }
    for (const size_t i : front) ranks[i] = rank;
    assigned += front.size();
  }
  return ranks;
}

double hypervolume_2d(const std::vector<std::vector<double>>& points, const std::vector<double>& reference) {
  if (reference.size() != 2) throw std::invalid_argument("hypervolume_2d: needs 2 objectives");
  std::vector<std::pair<double, double>> inside;
  for (const auto& p : points)
    if (p[0] < reference[0] && p[1] < reference[1]) inside.emplace_back(p[0], p[1]);
  std::sort(inside.begin(), inside.end());
  // Sweep by the first objective; each point adds the slab below the lowest second value seen so far.
  double volume = 0.0, lowest = reference[1];
  for (const auto& [x, y] : inside) {
    if (y >= lowest) continue;
    volume += (reference[0] - x) * (lowest - y);
    lowest = y;
  }
  return volume;
}

std::vector<double> reference_point(const std::vector<std::vector<double>>& points) {
  std::vector<double> reference(points.front().size(), -INFINITY);
  for (const auto& p : points)
    for (size_t i = 0; i < p.size(); ++i) reference[i] = std::max(reference[i], p[i]);
  for (double& r : reference) {
    r = std::max(1.1 * r, 0.9 * r);
    if (r == 0.0) r = kEps;
  }
  return reference;
}

std::vector<size_t> select_by_hypervolume(const std::vector<std::vector<double>>& points, size_t k,
                                          const std::vector<double>& reference) {
  std::vector<size_t> chosen;
  std::vector<bool> taken(points.size(), false);
  std::vector<std::vector<double>> selected;
  double volume = 0.0;
  while (chosen.size() < std::min(k, points.size())) {
    size_t best = points.size();
    double best_gain = -1.0;
    for (size_t i = 0; i < points.size(); ++i) {
      if (taken[i]) continue;
      selected.push_back(points[i]);
      const double gain = hypervolume_2d(selected, reference) - volume;
      selected.pop_back();
      if (gain > best_gain) best_gain = gain, best = i;
    }
    taken[best] = true;
    chosen.push_back(best);
    selected.push_back(points[best]);
    volume += best_gain;
  }
  return chosen;
}

std::vector<Trial> pareto_front(const std::vector<Trial>& trials, const std::vector<std::string>& objectives) {
  std::vector<const Trial*> candidates;
  std::vector<std::vector<double>> points;
  for (const auto& trial : trials) {
    if (trial.state != TrialState::kComplete || !trial.feasible()) continue;
    std::vector<double> point;
    for (const auto& objective : objectives) {
      const auto value = trial.value(objective);
      if (!value || !std::isfinite(*value)) break;
      point.push_back(*value);
    }
    if (point.size() != objectives.size()) continue;
    candidates.push_back(&trial);
    points.push_back(std::move(point));
  }
  const auto ranks = non_dominated_ranks(points);
  std::vector<Trial> front;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (ranks[i] == 0) front.push_back(*candidates[i]);
  std::stable_sort(front.begin(), front.end(), [&](const Trial& a, const Trial& b) {
    return *a.value(objectives.front()) < *b.value(objectives.front());
  });
  return front;
}

}  // namespace compactmind::search
