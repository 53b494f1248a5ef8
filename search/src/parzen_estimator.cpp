#include "compactmind/search/parzen_estimator.h"

#include "compactmind/search/random_draws.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace compactmind::search {
namespace {

constexpr double kEps = 1e-12;  // Optuna's EPS

// Probability mass of a standard normal on [za, zb], computed on the tail side to avoid cancellation.
double normal_mass(double za, double zb) {
  if (zb <= za) return 0.0;
  const double r = 1.0 / std::sqrt(2.0);
  if (za >= 0) return 0.5 * (std::erfc(za * r) - std::erfc(zb * r));
  if (zb <= 0) return 0.5 * (std::erfc(-zb * r) - std::erfc(-za * r));
  return 1.0 - 0.5 * std::erfc(-za * r) - 0.5 * std::erfc(zb * r);
}

double log_sum_exp(const std::vector<double>& terms) {
  double top = -std::numeric_limits<double>::infinity();
  for (const double term : terms) top = std::max(top, term);
  if (!std::isfinite(top)) return top;
  double sum = 0.0;
  for (const double term : terms) sum += std::exp(term - top);
  return top + std::log(sum);
}

}  // namespace

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

bool ParzenEstimator::categorical() const {
  return spec_.type == ParameterType::kCategorical || spec_.type == ParameterType::kBool;
}

bool ParzenEstimator::discrete() const { return !categorical() && spec_.step > 0; }

ParzenEstimator::ParzenEstimator(const ParameterSpec& spec, const std::vector<nlohmann::json>& observations,
                                 const std::vector<double>& weights, double prior_weight)
    : spec_(spec) {
  if (observations.size() != weights.size())
    throw std::invalid_argument("parzen estimator '" + spec.name + "': one weight per observation needed");
  weights_ = weights;
  weights_.push_back(prior_weight);
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  for (double& weight : weights_) weight /= total;

  std::vector<double> xs;
  for (const auto& observation : observations) xs.push_back(to_internal(observation));

  if (categorical()) {
    const size_t n_choices = spec.type == ParameterType::kBool ? 2 : spec.choices.size();
    const size_t n_kernels = xs.size() + 1;
    for (size_t k = 0; k < n_kernels; ++k) {
      std::vector<double> row(n_choices, prior_weight / static_cast<double>(n_kernels));
      if (k < xs.size()) row[static_cast<size_t>(xs[k])] += 1.0;
      const double row_sum = std::accumulate(row.begin(), row.end(), 0.0);
      for (double& p : row) p /= row_sum;
      choice_probs_.push_back(std::move(row));
    }
    return;
  }

  // Discrete ranges widen by half a step so the end values own a full cell.
  const double half = spec.step > 0 ? 0.5 * spec.step : 0.0;
  if (spec.log_scale) {
    low_ = std::log(spec.low - half > 0 ? spec.low - half : spec.low);
    high_ = std::log(spec.high + half);
  } else {
    low_ = spec.low - half;
    high_ = spec.high + half;
  }
  const double range = std::max(high_ - low_, kEps);
  const double prior_mu = 0.5 * (low_ + high_);

  // Bandwidths: the larger distance to the sorted neighbours among observations + prior mean, with the
  // range ends as outer neighbours except at the extremes (Optuna's consider_endpoints=False).
  std::vector<double> with_prior = xs;
  with_prior.push_back(prior_mu);
  std::vector<size_t> order(with_prior.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return with_prior[a] < with_prior[b]; });
  std::vector<double> sorted{low_};
  for (const size_t i : order) sorted.push_back(with_prior[i]);
  sorted.push_back(high_);
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
  const double min_sigma = range / std::min(100.0, 1.0 + static_cast<double>(xs.size() + 1));
  for (size_t i = 0; i < xs.size(); ++i) {
    mus_.push_back(xs[i]);
    sigmas_.push_back(std::clamp(sigmas[i], min_sigma, range));
  }
  mus_.push_back(prior_mu);
  sigmas_.push_back(range);
}

double ParzenEstimator::to_internal(const nlohmann::json& value) const {
  switch (spec_.type) {
    case ParameterType::kBool: return value.get<bool>() ? 1.0 : 0.0;
    case ParameterType::kCategorical: {
      const auto found = std::find(spec_.choices.begin(), spec_.choices.end(), value.get<std::string>());
      if (found == spec_.choices.end())
        throw std::invalid_argument("parzen estimator '" + spec_.name + "': " + value.dump() + " is not a choice");
      return static_cast<double>(found - spec_.choices.begin());
    }
    case ParameterType::kInt:
    case ParameterType::kFloat: break;
  }
  const double number = value.get<double>();
  return spec_.log_scale ? std::log(number) : number;
}

nlohmann::json ParzenEstimator::to_external(double x) const {
  switch (spec_.type) {
    case ParameterType::kBool: return x >= 0.5;
    case ParameterType::kCategorical: return spec_.choices[static_cast<size_t>(x)];
    case ParameterType::kInt:
    case ParameterType::kFloat: break;
  }
  return snap_to_domain(spec_, spec_.log_scale ? std::exp(x) : x);
}

double ParzenEstimator::sample_internal(std::mt19937_64& rng) const {
  // Choose a kernel by the mixture weights, then draw from it.
  double u = uniform01(rng);
  size_t k = 0;
  while (k + 1 < weights_.size() && u >= weights_[k]) u -= weights_[k++];
  if (categorical()) {
    const auto& row = choice_probs_[std::min(k, choice_probs_.size() - 1)];
    double v = uniform01(rng);
    size_t c = 0;
    while (c + 1 < row.size() && v >= row[c]) v -= row[c++];
    return static_cast<double>(c);
  }
  // Rejection sampling of the truncated normal: every kernel's mean lies in [low, high] and its sigma
  // is at least range/100, so at least about half of its mass is inside.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const double x = mus_[k] + sigmas_[k] * standard_normal(rng);
    if (x >= low_ && x <= high_) return x;
  }
  return uniform_real(rng, low_, high_);
}

void ParzenEstimator::cell(double x, double& a, double& b) const {
  const double half = 0.5 * spec_.step;
  if (spec_.log_scale) {
    const double v = std::exp(x);
    a = std::log(std::max(v - half, std::exp(low_)));
    b = std::log(v + half);
  } else {
    a = x - half;
    b = x + half;
  }
  a = std::max(a, low_);
  b = std::min(b, high_);
}

double ParzenEstimator::log_pdf_internal(double x) const {
  std::vector<double> terms;
  if (categorical()) {
    const auto c = static_cast<size_t>(x);
    for (size_t k = 0; k < choice_probs_.size(); ++k) terms.push_back(std::log(weights_[k]) + std::log(choice_probs_[k][c]));
    return log_sum_exp(terms);
  }
  for (size_t k = 0; k < mus_.size(); ++k) {
    const double mu = mus_[k], sigma = sigmas_[k];
    const double mass_inside = normal_mass((low_ - mu) / sigma, (high_ - mu) / sigma);
    double log_density;
    if (discrete()) {
      double a, b;
      cell(x, a, b);
      log_density = std::log(normal_mass((a - mu) / sigma, (b - mu) / sigma));
    } else {
      const double z = (x - mu) / sigma;
      log_density = -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2.0 * M_PI);
    }
    terms.push_back(std::log(weights_[k]) + log_density - std::log(std::max(mass_inside, kEps)));
  }
  return log_sum_exp(terms);
}

}  // namespace compactmind::search
