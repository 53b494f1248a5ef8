#include "compactmind/int_quantizer.h"

#include <stdexcept>

namespace compactmind {

QuantParams find_quant_params(const IntQuantizer& quantizer, const at::Tensor& weight) {
  if (quantizer.bits < 2 || quantizer.bits > 8)
    throw std::invalid_argument("integer quantizer: bits must be in [2, 8], got " + std::to_string(quantizer.bits));
  const at::Tensor x = weight.to(at::kFloat);
  const at::Tensor zeros = at::zeros({x.size(0)}, x.options());
  at::Tensor xmin = at::minimum(std::get<0>(x.min(1)), zeros);
  at::Tensor xmax = at::maximum(std::get<0>(x.max(1)), zeros);
  if (quantizer.symmetric) {
    xmax = at::maximum(xmin.abs(), xmax);
    xmin = at::where(xmin < 0, -xmax, xmin);
  }
  // A row of zeros: the reference's [-1, +1], so that the scale is never 0.
  const at::Tensor empty = (xmin == 0) & (xmax == 0);
  xmin = at::where(empty, at::full_like(xmin, -1.0), xmin);
  xmax = at::where(empty, at::full_like(xmax, 1.0), xmax);
  const double maxq = double(quantizer.max_level());
  QuantParams params;
  params.scale = (xmax - xmin) / maxq;
  params.zero = quantizer.symmetric ? at::full_like(params.scale, (maxq + 1.0) / 2.0)
                                    : at::round(-xmin / params.scale);
  return params;
}

at::Tensor quantize_levels(const IntQuantizer& quantizer, const at::Tensor& weight, const QuantParams& params) {
  return at::clamp(at::round(weight / params.scale.unsqueeze(1)) + params.zero.unsqueeze(1), 0.0,
                   double(quantizer.max_level()));
}

at::Tensor quantize_dequantize(const IntQuantizer& quantizer, const at::Tensor& weight, const QuantParams& params) {
  return params.scale.unsqueeze(1) * (quantize_levels(quantizer, weight, params) - params.zero.unsqueeze(1));
}

}  // namespace compactmind
