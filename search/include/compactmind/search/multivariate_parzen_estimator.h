// A Parzen estimator over several parameters at once (Optuna's _ParzenEstimator with
// multivariate=True): a mixture of product kernels, one per observation plus a prior kernel. A draw
// picks one kernel by the mixture weights and draws every parameter from that kernel's factor, so the
// values of one good trial travel together (a categorical stays tied to the numeric values it was
// good with); the density is Σ_k w_k Π_d p_kd(x_d).
//   numeric factor: truncated Gaussian (parzen_domain.h) at the observation with Optuna's
//     multivariate bandwidth σ = 0.2 · max(n, 1)^(−1/(d + 4)) · (high − low) for every observation
//     kernel (d = number of parameters of the estimator), clipped to the magic clip range; the prior
//     kernel is N((low + high) / 2, high − low).
//   categorical factor: as the univariate estimator (one-hot plus prior_weight / n_kernels, normalised;
//     uniform for the prior kernel).
#pragma once

#include "compactmind/contract/parameter_space.h"
#include "compactmind/search/parzen_domain.h"

#include <nlohmann/json.hpp>

#include <random>
#include <vector>

namespace compactmind::search {

class MultivariateParzenEstimator {
 public:
  // `observations[i][d]`: the external value of parameter d in observation i; `weights` one per
  // observation. Throws std::invalid_argument on mismatched sizes.
  MultivariateParzenEstimator(const std::vector<ParameterSpec>& specs,
                              const std::vector<std::vector<nlohmann::json>>& observations,
                              const std::vector<double>& weights, double prior_weight = 1.0);

  // Internal points (one coordinate per parameter; parzen_domain.h's representation).
  std::vector<double> sample_internal(std::mt19937_64& rng) const;
  double log_pdf_internal(const std::vector<double>& x) const;
  std::vector<double> to_internal(const std::vector<nlohmann::json>& values) const;
  std::vector<nlohmann::json> to_external(const std::vector<double>& x) const;

  const std::vector<double>& mixture_weights() const { return weights_; }
  // The bandwidth of parameter d's observation kernels (numeric parameters).
  double observation_sigma(size_t d) const { return sigmas_[d]; }

 private:
  std::vector<ParzenDomain> domains_;
  std::vector<double> weights_;                 // mixture weights, the prior's last (sum 1)
  std::vector<std::vector<double>> mus_;        // [dimension][kernel], internal; the prior's last
  std::vector<double> sigmas_;                  // [dimension]: the observation kernels' bandwidth
  std::vector<std::vector<double>> log_masses_; // [dimension][kernel]: log mass inside the range
  std::vector<std::vector<std::vector<double>>> choice_probs_;  // [dimension][kernel][choice]
};

}  // namespace compactmind::search
