// The strategy interface: given the space, the history and the trial number, propose a point.
#pragma once

#include "compactmind/search/search_space.h"
#include "compactmind/search/trial.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace compactmind::search {

struct SamplingContext {
  const SearchSpace& space;
  const std::vector<Trial>& history;        // the study's trials before this one (finished ones)
  int trial_number;
  const std::vector<std::string>& objectives;  // value names, all minimised; 2+ = multi-objective
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  // A point of the space, or nullopt when the strategy has nothing left to propose (grid exhausted).
  virtual std::optional<nlohmann::json> sample(const SamplingContext& context) = 0;
};

struct SamplerOptions {
  uint64_t seed = 0;
  int n_trials = 0;          // the study's budget; sizes the TPE's default startup
  int n_startup_trials = -1;  // TPE; -1 = default_startup_trials(n_trials)
  int grid_points = 3;       // grid: values per numeric range
  bool tpe_multivariate = true;  // TPE: grouped multivariate estimators (TpeOptions::multivariate)
};

// "random" | "grid" | "bayesian" (alias "tpe"); throws std::invalid_argument naming the choices.
std::unique_ptr<Sampler> make_sampler(const std::string& strategy, const SamplerOptions& options);

}  // namespace compactmind::search
