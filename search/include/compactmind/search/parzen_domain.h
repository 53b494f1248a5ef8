// One parameter's internal space for the Parzen estimators (univariate and multivariate): log space
// for log parameters, the choice index for categorical/bool ones; numeric ranges widened by half a
// step for discrete parameters so the end values own a full cell. Kernels are Gaussians truncated to
// the range; a discrete value gets the kernel's mass on its cell [v - step/2, v + step/2].
#pragma once

#include "compactmind/contract/parameter_space.h"

#include <nlohmann/json.hpp>

#include <random>

namespace compactmind::search {

class ParzenDomain {
 public:
  explicit ParzenDomain(const ParameterSpec& spec);

  bool categorical() const;
  bool discrete() const;
  size_t n_choices() const;  // categorical/bool only
  double low() const { return low_; }  // internal bounds (numeric only)
  double high() const { return high_; }
  double range() const;                  // high − low, at least EPS

  double to_internal(const nlohmann::json& value) const;
  // A continuous internal draw as a legal external value (snapped to the step grid).
  nlohmann::json to_external(double x) const;

  // log of the mass of N(mu, sigma) inside the range (a kernel's truncation constant; estimators
  // compute it once per kernel, as it is the costly part of a density).
  double log_mass_inside(double mu, double sigma) const;
  // log of the truncated kernel N(mu, sigma) at internal x: the density, or the cell mass for
  // discrete parameters, minus `log_mass` (= log_mass_inside(mu, sigma)).
  double kernel_log_density(double mu, double sigma, double log_mass, double x) const;
  // A draw of that truncated kernel (rejection; every kernel mean lies inside the range and sigma is
  // at least range/100, so about half of its mass or more is inside).
  double sample_kernel(double mu, double sigma, std::mt19937_64& rng) const;

  const ParameterSpec& spec() const { return spec_; }

 private:
  void cell(double x, double& a, double& b) const;

  ParameterSpec spec_;
  double low_ = 0.0, high_ = 0.0;
};

double log_sum_exp(const std::vector<double>& terms);

}  // namespace compactmind::search
