#include "compactmind/search/parzen_domain.h"

#include "compactmind/search/random_draws.h"

#include <algorithm>
#include <cmath>
#include <limits>
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

}  // namespace

double log_sum_exp(const std::vector<double>& terms) {
  double top = -std::numeric_limits<double>::infinity();
  for (const double term : terms) top = std::max(top, term);
  if (!std::isfinite(top)) return top;
  double sum = 0.0;
  for (const double term : terms) sum += std::exp(term - top);
  return top + std::log(sum);
}

ParzenDomain::ParzenDomain(const ParameterSpec& spec) : spec_(spec) {
  if (categorical()) return;
  const double half = spec.step > 0 ? 0.5 * spec.step : 0.0;
  if (spec.log_scale) {
    low_ = std::log(spec.low - half > 0 ? spec.low - half : spec.low);
    high_ = std::log(spec.high + half);
  } else {
    low_ = spec.low - half;
    high_ = spec.high + half;
  }
}

bool ParzenDomain::categorical() const {
  return spec_.type == ParameterType::kCategorical || spec_.type == ParameterType::kBool;
}

bool ParzenDomain::discrete() const { return !categorical() && spec_.step > 0; }

size_t ParzenDomain::n_choices() const { return spec_.type == ParameterType::kBool ? 2 : spec_.choices.size(); }

double ParzenDomain::range() const { return std::max(high_ - low_, kEps); }

double ParzenDomain::to_internal(const nlohmann::json& value) const {
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

nlohmann::json ParzenDomain::to_external(double x) const {
  switch (spec_.type) {
    case ParameterType::kBool: return x >= 0.5;
    case ParameterType::kCategorical: return spec_.choices[static_cast<size_t>(x)];
    case ParameterType::kInt:
    case ParameterType::kFloat: break;
  }
  return snap_to_domain(spec_, spec_.log_scale ? std::exp(x) : x);
}

void ParzenDomain::cell(double x, double& a, double& b) const {
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

double ParzenDomain::log_mass_inside(double mu, double sigma) const {
  return std::log(std::max(normal_mass((low_ - mu) / sigma, (high_ - mu) / sigma), kEps));
}

double ParzenDomain::kernel_log_density(double mu, double sigma, double log_mass, double x) const {
  double log_density;
  if (discrete()) {
    double a, b;
    cell(x, a, b);
    log_density = std::log(normal_mass((a - mu) / sigma, (b - mu) / sigma));
  } else {
    const double z = (x - mu) / sigma;
    log_density = -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2.0 * M_PI);
  }
  return log_density - log_mass;
}

double ParzenDomain::sample_kernel(double mu, double sigma, std::mt19937_64& rng) const {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const double x = mu + sigma * standard_normal(rng);
    if (x >= low_ && x <= high_) return x;
  }
  return uniform_real(rng, low_, high_);
}

}  // namespace compactmind::search
