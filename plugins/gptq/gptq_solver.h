// The GPTQ solver of one linear (Frantar, Ashkboos, Hoefler, Alistarh, "GPTQ: Accurate Post-Training
// Quantization for Generative Pre-trained Transformers", ICLR 2023; IST-DASLab/gptq, gptq.py
// `fasterquant`): columns are quantized in order, each one's rounding error spread over the columns
// not yet quantized through the Cholesky factor of the inverse Hessian, in blocks with lazy batch
// updates. Also compiled into tests/methods/test_gptq.
#pragma once

#include "compactmind/packed_linear.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace compactmind::gptq {

struct GptqOptions {
  PackedScheme scheme;
  bool act_order = false;   // columns in decreasing diag(H) order (groups stay static, see .cpp)
  double dampening = 0.01;  // λ = dampening · mean(diag(H)) added to the diagonal
  int64_t block_size = 128;
};

struct GptqResult {
  at::Tensor levels;  // [out, in] float32, unsigned integer levels
  at::Tensor scale;   // [out, groups]
  at::Tensor zero;    // [out, groups], levels
};

// Quantizes `weight` [out, in] given `hessian` [in, in] = 2 X Xᵀ / samples of its calibration
// inputs. `name` is for messages (e.g. a Hessian that is not positive definite after dampening).
GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const GptqOptions& options,
                         const std::string& name);

}  // namespace compactmind::gptq
