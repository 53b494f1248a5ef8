// Exhaustive search over a discretised space, visited in a seeded random order (as Optuna's
// GridSampler picks unvisited grid points at random), so a budget smaller than the grid still spreads
// over it. Resolution: every categorical choice and both bool values; for numeric ranges
// `points_per_range` values evenly spaced between low and high (geometrically for log scale), snapped
// to the step grid and deduplicated (an int range with fewer values keeps them all). Conditional
// dimensions branch only where active, so the grid has no duplicate points.
#pragma once

#include "compactmind/search/sampler.h"

#include <cstdint>
#include <vector>

namespace compactmind::search {

class GridSampler : public Sampler {
 public:
  static constexpr size_t kMaxPoints = 200'000;

  GridSampler(uint64_t seed, int points_per_range);
  std::string name() const override { return "grid"; }
  // nullopt once trial_number ≥ the grid size.
  std::optional<nlohmann::json> sample(const SamplingContext& context) override;

  // The grid values of one dimension.
  static std::vector<nlohmann::json> grid_values(const ParameterSpec& spec, int points_per_range);
  // Every point of the grid in enumeration order; throws std::invalid_argument above kMaxPoints.
  static std::vector<nlohmann::json> enumerate(const SearchSpace& space, int points_per_range);

 private:
  void prepare(const SearchSpace& space);

  uint64_t seed_;
  int points_per_range_;
  std::string prepared_for_;  // fingerprint of the space the grid was built for
  std::vector<nlohmann::json> points_;  // already shuffled
};

}  // namespace compactmind::search
