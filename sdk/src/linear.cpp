// DenseLinear and the dense-or-throw accessors of linear.h.
#include "compactmind/linear.h"

#include <stdexcept>

namespace compactmind {

DenseLinear::DenseLinear(at::Tensor weight) : weight(std::move(weight)) {
  if (this->weight.dim() != 2)
    throw std::invalid_argument("a dense linear needs a 2-D [out, in] weight, got shape " +
                                c10::str(this->weight.sizes()));
}

// at::linear takes Wᵀ as a strided view: one GEMM, no transposed copy.
at::Tensor DenseLinear::forward(const at::Tensor& input) const { return at::linear(input, weight); }

std::vector<std::pair<std::string, at::Tensor>> DenseLinear::state() const { return {{"weight", weight}}; }

int64_t DenseLinear::stored_bytes(at::ScalarType float_dtype) const {
  return weight.numel() * int64_t(at::elementSize(float_dtype));
}

std::unique_ptr<Linear> DenseLinear::clone() const {
  at::Tensor copy = weight.detach().clone();
  if (weight.requires_grad()) copy.requires_grad_(true);
  return std::make_unique<DenseLinear>(std::move(copy));
}

DenseLinear& as_dense(Linear& linear, const std::string& what) {
  if (auto* dense = dynamic_cast<DenseLinear*>(&linear)) return *dense;
  throw std::runtime_error(what + " is a '" + linear.kind() +
                           "' linear, but this step needs float (dense) weights: run it before quantization");
}

const DenseLinear& as_dense(const Linear& linear, const std::string& what) {
  return as_dense(const_cast<Linear&>(linear), what);
}

}  // namespace compactmind
