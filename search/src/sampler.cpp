#include "compactmind/search/sampler.h"

#include "compactmind/search/grid_sampler.h"
#include "compactmind/search/random_sampler.h"
#include "compactmind/search/tpe_sampler.h"

#include <stdexcept>

namespace compactmind::search {

std::unique_ptr<Sampler> make_sampler(const std::string& strategy, const SamplerOptions& options) {
  if (strategy == "random") return std::make_unique<RandomSampler>(options.seed);
  if (strategy == "grid") return std::make_unique<GridSampler>(options.seed, options.grid_points);
  if (strategy == "bayesian" || strategy == "tpe") {
    TpeOptions tpe;
    tpe.seed = options.seed;
    tpe.n_startup_trials =
        options.n_startup_trials >= 0 ? options.n_startup_trials : default_startup_trials(options.n_trials);
    tpe.multivariate = options.tpe_multivariate;
    return std::make_unique<TpeSampler>(tpe);
  }
  throw std::invalid_argument("unknown search strategy '" + strategy + "' (expected bayesian, random or grid)");
}

}  // namespace compactmind::search
