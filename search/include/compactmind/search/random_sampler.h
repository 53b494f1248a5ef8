// Independent uniform sampling of every active dimension (Optuna's RandomSampler).
#pragma once

#include "compactmind/search/sampler.h"

#include <random>

namespace compactmind::search {

class RandomSampler : public Sampler {
 public:
  explicit RandomSampler(uint64_t seed) : seed_(seed) {}
  std::string name() const override { return "random"; }
  std::optional<nlohmann::json> sample(const SamplingContext& context) override;

 private:
  uint64_t seed_;
};

// One uniform point of `space` drawn with `rng` (shared with the TPE's startup phase).
nlohmann::json sample_point_uniform(const SearchSpace& space, std::mt19937_64& rng);

}  // namespace compactmind::search
