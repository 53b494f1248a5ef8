// One parameter's Parzen estimator as in Optuna's TPE (_ParzenEstimator, independent mode): a
// weighted mixture of one kernel per observation plus a prior kernel.
//   numeric: truncated Gaussians in the internal space (log space for log parameters) on
//            [low, high] widened by half a step for discrete ones; bandwidth of each kernel = the
//            larger gap to its sorted neighbours (prior mean included, endpoints not considered),
//            clipped to [(high - low) / min(100, 1 + n_kernels), high - low] ("magic clip");
//            the prior kernel is N((low + high) / 2, high - low). Discrete values get the mass of
//            their cell [v - step/2, v + step/2]. (For log-scale ints Optuna evaluates the continuous
//            log-space density at the rounded value; we use the cell's mass there too, so every
//            discrete parameter is scored the same way.)
//   categorical/bool: each kernel is the one-hot of its observation plus prior_weight / n_kernels
//            on every choice, normalised; with no observation, uniform.
// Mixture weights: the given observation weights with prior_weight appended, normalised.
#pragma once

#include "compactmind/contract/parameter_space.h"

#include <nlohmann/json.hpp>

#include <random>
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
  nlohmann::json to_external(double x) const;
  double to_internal(const nlohmann::json& value) const;

  const std::vector<double>& mixture_weights() const { return weights_; }
  const std::vector<double>& mus() const { return mus_; }
  const std::vector<double>& sigmas() const { return sigmas_; }

 private:
  bool categorical() const;
  bool discrete() const;
  // The internal-space cell of a discrete value.
  void cell(double x, double& a, double& b) const;

  ParameterSpec spec_;
  double low_ = 0.0, high_ = 0.0;  // internal bounds
  std::vector<double> weights_;    // mixture weights (sum 1)
  std::vector<double> mus_, sigmas_;
  std::vector<std::vector<double>> choice_probs_;  // categorical kernels
};

// Optuna's default_weights: 1 for the last 25 observations, a ramp from 1/n up to 1 before them.
std::vector<double> default_observation_weights(size_t n);

}  // namespace compactmind::search
