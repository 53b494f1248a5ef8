#include "compactmind/search/random_sampler.h"

#include "compactmind/search/random_draws.h"

namespace compactmind::search {

nlohmann::json sample_point_uniform(const SearchSpace& space, std::mt19937_64& rng) {
  nlohmann::json point = nlohmann::json::object();
  for (const auto& dimension : space.dimensions())
    if (SearchSpace::is_active(dimension, point)) point[dimension.name] = sample_uniform(dimension.spec, rng);
  return point;
}

std::optional<nlohmann::json> RandomSampler::sample(const SamplingContext& context) {
  auto rng = trial_rng(seed_, context.trial_number);
  return sample_point_uniform(context.space, rng);
}

}  // namespace compactmind::search
