#include "compactmind/search/random_draws.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace compactmind::search {

std::mt19937_64 trial_rng(uint64_t seed, int64_t trial_number) {
  // seed_seq's mixing is specified by the standard, so this is the same everywhere.
  const auto number = static_cast<uint64_t>(trial_number);
  std::seed_seq sequence{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                         static_cast<uint32_t>(number), static_cast<uint32_t>(number >> 32), 0x7e5a11u};
  return std::mt19937_64(sequence);
}

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double uniform_real(std::mt19937_64& rng, double low, double high) {
  return low + (high - low) * uniform01(rng);
}

uint64_t uniform_index(std::mt19937_64& rng, uint64_t n) {
  if (n <= 1) return 0;
  // Reject the top partial block so every index is equally likely.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  uint64_t draw = rng();
  while (draw >= limit) draw = rng();
  return draw % n;
}

double standard_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

int64_t step_count(const ParameterSpec& spec) {
  if (spec.step <= 0) return 0;
  return static_cast<int64_t>(std::floor((spec.high - spec.low) / spec.step + 1e-9)) + 1;
}

nlohmann::json step_value(const ParameterSpec& spec, int64_t index) {
  if (spec.type == ParameterType::kInt)
    return static_cast<int64_t>(std::llround(spec.low)) + index * static_cast<int64_t>(std::llround(spec.step));
  return std::min(spec.high, spec.low + static_cast<double>(index) * spec.step);
}

nlohmann::json snap_to_domain(const ParameterSpec& spec, double value) {
  if (!std::isfinite(value)) value = spec.low;
  value = std::clamp(value, spec.low, spec.high);
  if (spec.step > 0) {
    const int64_t last = step_count(spec) - 1;
    const auto index = std::clamp<int64_t>(std::llround((value - spec.low) / spec.step), 0, last);
    return step_value(spec, index);
  }
  if (spec.type == ParameterType::kInt) return static_cast<int64_t>(std::llround(value));
  return value;
}

nlohmann::json sample_uniform(const ParameterSpec& spec, std::mt19937_64& rng) {
  switch (spec.type) {
    case ParameterType::kBool: return uniform_index(rng, 2) == 1;
    case ParameterType::kCategorical: return spec.choices[uniform_index(rng, spec.choices.size())];
    case ParameterType::kInt:
    case ParameterType::kFloat: break;
  }
  if (spec.log_scale) {
    // Discrete log ranges are widened by half a step so both ends keep a full cell (as Optuna does).
    const double half = spec.step > 0 ? 0.5 * spec.step : 0.0;
    const double low = std::log(spec.low - half > 0 ? spec.low - half : spec.low);
    const double high = std::log(spec.high + half);
    return snap_to_domain(spec, std::exp(uniform_real(rng, low, high)));
  }
  if (spec.step > 0) return step_value(spec, static_cast<int64_t>(uniform_index(rng, step_count(spec))));
  return uniform_real(rng, spec.low, spec.high);
}

}  // namespace compactmind::search
