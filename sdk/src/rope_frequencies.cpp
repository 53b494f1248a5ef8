// RoPE inverse frequencies, operation for operation as transformers' modeling_rope_utils.py
// (_compute_default_rope_parameters, _compute_linear_scaling_rope_parameters,
// _compute_dynamic_ntk_parameters, _compute_llama3_parameters): float32 tensors, Python-double scalars.
#include "compactmind/rope_frequencies.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace compactmind {
namespace {

constexpr double kPi = 3.141592653589793;  // Python's math.pi

// 1 / base^(arange(0, d, 2) / d), the exponents in float32 as transformers computes them.
at::Tensor default_frequencies(double base, int64_t head_dim, const at::Device& device) {
  const at::Tensor exponents = at::arange(0, head_dim, 2, at::TensorOptions().dtype(at::kLong).device(device))
                                   .to(at::kFloat)
                                   .div(static_cast<double>(head_dim));
  return at::pow(base, exponents).reciprocal();
}

// Llama-3.1: wavelengths below original/high_freq_factor stay, those above original/low_freq_factor are
// divided by `factor`, and those in between blend the two by where the wavelength lies.
at::Tensor llama3_frequencies(const at::Tensor& inv_freq, const RopeScaling& scaling) {
  const double factor = scaling.factor;
  const double old_context = static_cast<double>(scaling.original_max_position_embeddings);
  const double low_freq_wavelength = old_context / scaling.low_freq_factor;
  const double high_freq_wavelength = old_context / scaling.high_freq_factor;
  const at::Tensor wavelength = inv_freq.reciprocal().mul(2 * kPi);
  at::Tensor scaled = at::where(wavelength > low_freq_wavelength, inv_freq / factor, inv_freq);
  const at::Tensor smooth = (wavelength.reciprocal().mul(old_context) - scaling.low_freq_factor) /
                            (scaling.high_freq_factor - scaling.low_freq_factor);
  const at::Tensor smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
  const at::Tensor medium = (wavelength >= high_freq_wavelength).logical_and(wavelength <= low_freq_wavelength);
  return at::where(medium, smoothed, scaled);
}

}  // namespace

bool rope_depends_on_length(const LlamaConfig& config, int64_t sequence_length) {
  return config.rope_scaling.type == "dynamic" && sequence_length > config.max_position_embeddings;
}

at::Tensor rope_inverse_frequencies(const LlamaConfig& config, int64_t sequence_length, const at::Device& device) {
  const RopeScaling& scaling = config.rope_scaling;
  const int64_t head_dim = config.head_dim;
  if (scaling.type == "default") return default_frequencies(config.rope_theta, head_dim, device);
  if (scaling.type == "linear") return default_frequencies(config.rope_theta, head_dim, device) / scaling.factor;
  if (scaling.type == "llama3") return llama3_frequencies(default_frequencies(config.rope_theta, head_dim, device), scaling);
  if (scaling.type == "dynamic") {
    // NTK-aware: beyond the trained context the base grows with the length; within it nothing changes.
    const double trained = static_cast<double>(config.max_position_embeddings);
    const double length = static_cast<double>(std::max(sequence_length, config.max_position_embeddings));
    const double dim = static_cast<double>(head_dim);
    const double base = config.rope_theta *
                        std::pow(scaling.factor * length / trained - (scaling.factor - 1), dim / (dim - 2));
    return default_frequencies(base, head_dim, device);
  }
  throw std::logic_error("RoPE scaling type '" + scaling.type + "' has no frequencies");
}

}  // namespace compactmind
