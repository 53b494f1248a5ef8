#include "compactmind/search/parzen_estimator.h"

#include "compactmind/search/random_draws.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace compactmind::search {

std::vector<double> default_observation_weights(size_t n) {
  std::vector<double> weights(n, 1.0);
  if (n < 25) return weights;
  // Optuna's default_weights: linspace(1/n, 1, n - 25) for the oldest, then 25 ones.
  const size_t ramp = n - 25;
  for (size_t i = 0; i < ramp; ++i) {
    const double start = 1.0 / static_cast<double>(n);
    weights[i] = ramp == 1 ? start : start + (1.0 - start) * static_cast<double>(i) / static_cast<double>(ramp - 1);
  }
  return weights;
}

std::vector<double> mixture_weights_with_prior(const std::vector<double>& weights, double prior_weight,
                                               const std::string& name) {
  std::vector<double> out = weights;
  out.push_back(prior_weight);
  const double total = std::accumulate(out.begin(), out.end(), 0.0);
  if (!(total > 0)) throw std::invalid_argument("parzen estimator '" + name + "': the weights sum to zero");
  for (double& weight : out) weight /= total;
  return out;
}

std::vector<double> categorical_kernel_row(size_t n_choices, size_t n_kernels, double prior_weight,
                                           std::optional<size_t> observed) {
  std::vector<double> row(n_choices, prior_weight / static_cast<double>(n_kernels));
  if (observed) row[*observed] += 1.0;
  const double row_sum = std::accumulate(row.begin(), row.end(), 0.0);
  for (double& p : row) p /= row_sum;
  return row;
}

double magic_clip_min_sigma(double range, size_t n_kernels) {
  return range / std::min(100.0, 1.0 + static_cast<double>(n_kernels));
}

ParzenEstimator::ParzenEstimator(const ParameterSpec& spec, const std::vector<nlohmann::json>& observations,
                                 const std::vector<double>& weights, double prior_weight)
    : domain_(spec) {
  if (observations.size() != weights.size())
    throw std::invalid_argument("parzen estimator '" + spec.name + "': one weight per observation needed");
  weights_ = mixture_weights_with_prior(weights, prior_weight, spec.name);

  std::vector<double> xs;
  for (const auto& observation : observations) xs.push_back(domain_.to_internal(observation));
  const size_t n_kernels = xs.size() + 1;

  if (domain_.categorical()) {
    for (size_t k = 0; k < n_kernels; ++k)
      choice_probs_.push_back(categorical_kernel_row(domain_.n_choices(), n_kernels, prior_weight,
                                                     k < xs.size() ? std::optional<size_t>(static_cast<size_t>(xs[k]))
                                                                   : std::nullopt));
    return;
  }

  const double range = domain_.range();
  // Bandwidths: the larger distance to the sorted neighbours among the observations (Optuna >= 4.9: the
  // prior mean is no neighbour), with the range ends as outer neighbours except at the extremes
  // (Optuna's consider_endpoints=False).
  std::vector<size_t> order(xs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return xs[a] < xs[b]; });
  std::vector<double> sorted{domain_.low()};
  for (const size_t i : order) sorted.push_back(xs[i]);
  sorted.push_back(domain_.high());
  std::vector<double> sorted_sigmas(order.size());
  for (size_t i = 0; i < order.size(); ++i)
    sorted_sigmas[i] = std::max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
  if (sorted.size() >= 4) {
    sorted_sigmas.front() = sorted[2] - sorted[1];
    sorted_sigmas.back() = sorted[sorted.size() - 2] - sorted[sorted.size() - 3];
  }
  std::vector<double> sigmas(order.size());
  for (size_t i = 0; i < order.size(); ++i) sigmas[order[i]] = sorted_sigmas[i];
  // Magic clip (Bergstra's hyperopt, kept by Optuna): no kernel narrower than range / min(100, 1 + kernels).
  const double min_sigma = magic_clip_min_sigma(range, n_kernels);
  for (size_t i = 0; i < xs.size(); ++i) {
    mus_.push_back(xs[i]);
    sigmas_.push_back(std::clamp(sigmas[i], min_sigma, range));
  }
  mus_.push_back(0.5 * (domain_.low() + domain_.high()));
  sigmas_.push_back(range);
  for (size_t k = 0; k < mus_.size(); ++k) log_masses_.push_back(domain_.log_mass_inside(mus_[k], sigmas_[k]));
}

size_t ParzenEstimator::sample_kernel_index(const std::vector<double>& weights, std::mt19937_64& rng) {
  double u = uniform01(rng);
  size_t k = 0;
  while (k + 1 < weights.size() && u >= weights[k]) u -= weights[k++];
  return k;
}

size_t sample_choice(const std::vector<double>& probabilities, std::mt19937_64& rng) {
  double v = uniform01(rng);
  size_t c = 0;
  while (c + 1 < probabilities.size() && v >= probabilities[c]) v -= probabilities[c++];
  return c;
}

double ParzenEstimator::sample_internal(std::mt19937_64& rng) const {
  const size_t k = sample_kernel_index(weights_, rng);
  if (domain_.categorical()) return static_cast<double>(sample_choice(choice_probs_[k], rng));
  return domain_.sample_kernel(mus_[k], sigmas_[k], rng);
}

double ParzenEstimator::log_pdf_internal(double x) const {
  std::vector<double> terms;
  if (domain_.categorical()) {
    const auto c = static_cast<size_t>(x);
    for (size_t k = 0; k < choice_probs_.size(); ++k) terms.push_back(std::log(weights_[k]) + std::log(choice_probs_[k][c]));
    return log_sum_exp(terms);
  }
  for (size_t k = 0; k < mus_.size(); ++k)
    terms.push_back(std::log(weights_[k]) + domain_.kernel_log_density(mus_[k], sigmas_[k], log_masses_[k], x));
  return log_sum_exp(terms);
}

}  // namespace compactmind::search
