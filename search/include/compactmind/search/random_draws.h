// Platform-stable random draws on std::mt19937_64. The standard distributions' algorithms are
// implementation-defined, so a study sampled with libstdc++ would differ under libc++; these are not.
#pragma once

#include "compactmind/contract/parameter_space.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <random>

namespace compactmind::search {

// The generator of trial `trial_number` of a study seeded with `seed`: every trial's draws depend only
// on (seed, number) and the history, so a resumed study samples exactly as an uninterrupted one.
std::mt19937_64 trial_rng(uint64_t seed, int64_t trial_number);

double uniform01(std::mt19937_64& rng);                           // [0, 1)
double uniform_real(std::mt19937_64& rng, double low, double high);  // [low, high)
uint64_t uniform_index(std::mt19937_64& rng, uint64_t n);          // [0, n), unbiased
double standard_normal(std::mt19937_64& rng);                      // Box-Muller

// A value drawn uniformly from a parameter's domain (log-uniform for log scale, uniform over the
// step grid for int/stepped floats), as Optuna's RandomSampler draws.
nlohmann::json sample_uniform(const ParameterSpec& spec, std::mt19937_64& rng);
// Number of grid points of a stepped/int parameter: floor((high - low) / step) + 1.
int64_t step_count(const ParameterSpec& spec);
// low + index·step, computed so repeated rounding never leaves the grid; ints come back as integers.
nlohmann::json step_value(const ParameterSpec& spec, int64_t index);
// The legal value nearest to a number of the domain's range: clipped to [low, high], snapped to the
// step grid, an integer for int parameters. Numeric parameters only.
nlohmann::json snap_to_domain(const ParameterSpec& spec, double value);

}  // namespace compactmind::search
