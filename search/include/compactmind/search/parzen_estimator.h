// One parameter's Parzen estimator as in Optuna's TPE (_ParzenEstimator, univariate): a weighted
// mixture of one kernel per observation plus a prior kernel.
//   numeric: truncated Gaussians in the internal space (parzen_domain.h); bandwidth of each kernel =
//            the larger gap to its sorted neighbours among the observations (the prior mean is not a
//            neighbour, as in Optuna >= 4.9; range ends not considered at the extremes), clipped to
//            [(high - low) / min(100, 1 + n_kernels), high - low] ("magic clip"); the prior kernel
//            is N((low + high) / 2, high - low). Discrete values get the mass of their cell. (For
//            log-scale ints Optuna evaluates the continuous log-space density at the rounded value;
//            we use the cell's mass there too, so every discrete parameter is scored the same way.)
//   categorical/bool: each kernel is the one-hot of its observation plus prior_weight / n_kernels
//            on every choice, normalised; the prior kernel is uniform.
// Mixture weights: the given observation weights with prior_weight appended, normalised.
#pragma once

#include "compactmind/contract/parameter_space.h"
#include "compactmind/search/parzen_domain.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace compactmind::search {

class ParzenEstimator {
 public:
  // `observations` are external values (JSON as sampled); `weights` one per observation.
  ParzenEstimator(const ParameterSpec& spec, const std::vector<nlohmann::json>& observations,
                  const std::vector<double>& weights, double prior_weight = 1.0);

  // Internal representations: log for log scale, choice index for categorical/bool.
  double sample_internal(std::mt19937_64& rng) const;
  double log_pdf_internal(double x) const;
  // Converts a continuous internal draw to a legal external value, and that value back to the
  // internal point the density is evaluated at (snapped to the step grid).
  nlohmann::json to_external(double x) const { return domain_.to_external(x); }
  double to_internal(const nlohmann::json& value) const { return domain_.to_internal(value); }

  const std::vector<double>& mixture_weights() const { return weights_; }
  const std::vector<double>& mus() const { return mus_; }
  const std::vector<double>& sigmas() const { return sigmas_; }

  // A kernel index drawn by the (normalised) mixture weights.
  static size_t sample_kernel_index(const std::vector<double>& weights, std::mt19937_64& rng);

 private:
  ParzenDomain domain_;
  std::vector<double> weights_;    // mixture weights (sum 1)
  std::vector<double> mus_, sigmas_;
  std::vector<double> log_masses_;                 // each numeric kernel's log mass inside the range
  std::vector<std::vector<double>> choice_probs_;  // categorical kernels
};

// Optuna's default_weights: 1 for the last 25 observations, a ramp from 1/n up to 1 before them.
std::vector<double> default_observation_weights(size_t n);
// Shared with the multivariate estimator: the observation weights with the prior's appended,
// normalised; one categorical kernel (one-hot of `observed`, or none for the prior, plus
// prior_weight / n_kernels everywhere, normalised); the magic clip's smallest bandwidth; a choice
// drawn by its probabilities.
std::vector<double> mixture_weights_with_prior(const std::vector<double>& weights, double prior_weight,
                                               const std::string& name);
std::vector<double> categorical_kernel_row(size_t n_choices, size_t n_kernels, double prior_weight,
                                           std::optional<size_t> observed);
double magic_clip_min_sigma(double range, size_t n_kernels);
size_t sample_choice(const std::vector<double>& probabilities, std::mt19937_64& rng);

}  // namespace compactmind::search
