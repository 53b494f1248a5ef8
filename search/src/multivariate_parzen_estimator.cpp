#include "compactmind/search/multivariate_parzen_estimator.h"

#include "compactmind/search/parzen_estimator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace compactmind::search {

MultivariateParzenEstimator::MultivariateParzenEstimator(const std::vector<ParameterSpec>& specs,
                                                         const std::vector<std::vector<nlohmann::json>>& observations,
                                                         const std::vector<double>& weights, double prior_weight) {
  if (specs.empty()) throw std::invalid_argument("multivariate parzen estimator: no parameter");
  if (observations.size() != weights.size())
    throw std::invalid_argument("multivariate parzen estimator: one weight per observation needed");
  for (const auto& observation : observations)
    if (observation.size() != specs.size())
      throw std::invalid_argument("multivariate parzen estimator: an observation lacks a value for some parameter");
  weights_ = mixture_weights_with_prior(weights, prior_weight, specs.front().name);
  const size_t n = observations.size(), n_kernels = n + 1;
  const double n_params = static_cast<double>(specs.size());
  for (size_t d = 0; d < specs.size(); ++d) {
    const ParzenDomain& domain = domains_.emplace_back(specs[d]);
    std::vector<double> mus;
    for (const auto& observation : observations) mus.push_back(domain.to_internal(observation[d]));
    std::vector<std::vector<double>> rows;
    double sigma = 0.0;
    if (domain.categorical()) {
      for (size_t k = 0; k < n_kernels; ++k)
        rows.push_back(categorical_kernel_row(domain.n_choices(), n_kernels, prior_weight,
                                              k < n ? std::optional<size_t>(static_cast<size_t>(mus[k])) : std::nullopt));
    } else {
      // Optuna's SIGMA0_MAGNITUDE rule: one bandwidth for all observation kernels, shrinking with n
      // at the rate of a d-dimensional kernel density estimate.
      const double range = domain.range();
      sigma = 0.2 * std::pow(std::max<double>(static_cast<double>(n), 1.0), -1.0 / (n_params + 4.0)) * range;
      sigma = std::clamp(sigma, magic_clip_min_sigma(range, n_kernels), range);
      mus.push_back(0.5 * (domain.low() + domain.high()));
    }
    std::vector<double> log_masses;
    if (!domain.categorical())
      for (size_t k = 0; k < n_kernels; ++k)
        log_masses.push_back(domain.log_mass_inside(mus[k], k < n ? sigma : domain.range()));
    mus_.push_back(std::move(mus));
    sigmas_.push_back(sigma);
    log_masses_.push_back(std::move(log_masses));
    choice_probs_.push_back(std::move(rows));
  }
}

std::vector<double> MultivariateParzenEstimator::sample_internal(std::mt19937_64& rng) const {
  const size_t k = ParzenEstimator::sample_kernel_index(weights_, rng);
  const bool prior = k + 1 == weights_.size();
  std::vector<double> x;
  for (size_t d = 0; d < domains_.size(); ++d) {
    if (domains_[d].categorical()) x.push_back(static_cast<double>(sample_choice(choice_probs_[d][k], rng)));
    else x.push_back(domains_[d].sample_kernel(mus_[d][k], prior ? domains_[d].range() : sigmas_[d], rng));
  }
  return x;
}

double MultivariateParzenEstimator::log_pdf_internal(const std::vector<double>& x) const {
  if (x.size() != domains_.size())
    throw std::invalid_argument("multivariate parzen estimator: a point needs one coordinate per parameter");
  std::vector<double> terms;
  for (size_t k = 0; k < weights_.size(); ++k) {
    const bool prior = k + 1 == weights_.size();
    double term = std::log(weights_[k]);
    for (size_t d = 0; d < domains_.size(); ++d) {
      if (domains_[d].categorical()) term += std::log(choice_probs_[d][k][static_cast<size_t>(x[d])]);
      else term += domains_[d].kernel_log_density(mus_[d][k], prior ? domains_[d].range() : sigmas_[d],
                                                  log_masses_[d][k], x[d]);
    }
    terms.push_back(term);
  }
  return log_sum_exp(terms);
}

std::vector<double> MultivariateParzenEstimator::to_internal(const std::vector<nlohmann::json>& values) const {
  std::vector<double> x;
  for (size_t d = 0; d < domains_.size(); ++d) x.push_back(domains_[d].to_internal(values.at(d)));
  return x;
}

std::vector<nlohmann::json> MultivariateParzenEstimator::to_external(const std::vector<double>& x) const {
  std::vector<nlohmann::json> values;
  for (size_t d = 0; d < domains_.size(); ++d) values.push_back(domains_[d].to_external(x.at(d)));
  return values;
}

}  // namespace compactmind::search
