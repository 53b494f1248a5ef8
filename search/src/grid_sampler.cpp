#include "compactmind/search/grid_sampler.h"

#include "compactmind/search/random_draws.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace compactmind::search {

GridSampler::GridSampler(uint64_t seed, int points_per_range) : seed_(seed), points_per_range_(points_per_range) {
  if (points_per_range < 1) throw std::invalid_argument("grid: points per numeric range must be at least 1");
}

std::vector<nlohmann::json> GridSampler::grid_values(const ParameterSpec& spec, int points_per_range) {
  std::vector<nlohmann::json> values;
  switch (spec.type) {
    case ParameterType::kBool: return {false, true};
    case ParameterType::kCategorical:
      for (const auto& choice : spec.choices) values.emplace_back(choice);
      return values;
    case ParameterType::kInt:
    case ParameterType::kFloat: break;
  }
  if (spec.low == spec.high) return {snap_to_domain(spec, spec.low)};
  if (points_per_range == 1)
    return {snap_to_domain(spec, spec.log_scale ? std::sqrt(spec.low * spec.high) : 0.5 * (spec.low + spec.high))};
  for (int i = 0; i < points_per_range; ++i) {
    const double fraction = static_cast<double>(i) / (points_per_range - 1);
    const double x = spec.log_scale ? spec.low * std::pow(spec.high / spec.low, fraction)
                                    : spec.low + fraction * (spec.high - spec.low);
    nlohmann::json value = snap_to_domain(spec, x);
    if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(std::move(value));
  }
  return values;
}

std::vector<nlohmann::json> GridSampler::enumerate(const SearchSpace& space, int points_per_range) {
  std::vector<std::vector<nlohmann::json>> values;
  for (const auto& dimension : space.dimensions()) values.push_back(grid_values(dimension.spec, points_per_range));
  std::vector<nlohmann::json> points;
  // Depth-first over the dimensions; an inactive dimension contributes no branching.
  std::vector<nlohmann::json> stack{nlohmann::json::object()};
  std::vector<size_t> depth{0};
  while (!stack.empty()) {
    nlohmann::json point = std::move(stack.back());
    size_t index = depth.back();
    stack.pop_back();
    depth.pop_back();
    const auto& dimensions = space.dimensions();
    while (index < dimensions.size() && !SearchSpace::is_active(dimensions[index], point)) ++index;
    if (index == dimensions.size()) {
      points.push_back(std::move(point));
      if (points.size() > kMaxPoints)
        throw std::invalid_argument("grid: the space has more than " + std::to_string(kMaxPoints) +
                                    " grid points; lower the points per range or use --strategy random|bayesian");
      continue;
    }
    // Pushed in reverse so points come out in declaration order.
    for (auto value = values[index].rbegin(); value != values[index].rend(); ++value) {
      nlohmann::json next = point;
      next[dimensions[index].name] = *value;
      stack.push_back(std::move(next));
      depth.push_back(index + 1);
    }
  }
  return points;
}

void GridSampler::prepare(const SearchSpace& space) {
  const std::string fingerprint = space.fingerprint();
  if (fingerprint == prepared_for_) return;
  points_ = enumerate(space, points_per_range_);
  // Fisher-Yates with the study seed: the visiting order depends on the seed only, so a resumed study
  // continues where it stopped.
  auto rng = trial_rng(seed_, -1);
  for (size_t i = points_.size(); i > 1; --i) std::swap(points_[i - 1], points_[uniform_index(rng, i)]);
  prepared_for_ = fingerprint;
}

std::optional<nlohmann::json> GridSampler::sample(const SamplingContext& context) {
  prepare(context.space);
  if (context.trial_number < 0 || static_cast<size_t>(context.trial_number) >= points_.size()) return std::nullopt;
  return points_[context.trial_number];
}

}  // namespace compactmind::search
