// The asymmetric/symmetric min-max integer quantizer of GPTQ's reference code (IST-DASLab/gptq,
// quant.py `Quantizer`, weight mode), shared by RTN and GPTQ so that both round the same way:
//   xmin = min(min(x), 0), xmax = max(max(x), 0) per row; symmetric: xmax = max(|xmin|, xmax),
//   xmin = -xmax; a row of zeros gets [-1, 1];
//   scale = (xmax - xmin) / maxq with maxq = 2^bits - 1;
//   zero = round(-xmin / scale) (asymmetric) or (maxq + 1) / 2 (symmetric);
//   q = clamp(round(x / scale) + zero, 0, maxq), dequantized scale · (q - zero).
// Levels q are unsigned [0, maxq]; compressed-tensors stores them signed (q - 2^(bits-1)).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace compactmind {

struct IntQuantizer {
  int bits = 4;
  bool symmetric = true;
  int64_t max_level() const { return (int64_t(1) << bits) - 1; }
};

// Per-row parameters of one group of columns.
struct QuantParams {
  at::Tensor scale;  // [rows] float32
  at::Tensor zero;   // [rows] float32, an integer level in [0, maxq]
};

// Parameters of `weight` [rows, cols] (one group: all its columns).
QuantParams find_quant_params(const IntQuantizer& quantizer, const at::Tensor& weight);
// Unsigned levels (float32, integral values) of `weight` [rows, cols] under per-row `params`.
at::Tensor quantize_levels(const IntQuantizer& quantizer, const at::Tensor& weight, const QuantParams& params);
// scale · (q - zero): what the quantized weight computes with.
at::Tensor quantize_dequantize(const IntQuantizer& quantizer, const at::Tensor& weight, const QuantParams& params);

}  // namespace compactmind
