// Linear layers of the LLaMA model: y = x · Wᵀ (LLaMA linears have no bias).
// A layer is polymorphic so that compression methods can swap representations in place:
// DenseLinear (float weights, trainable), the SDK's Int8Linear (W8A8, int8_linear.h) and PackedLinear
// (weight-only int2/3/4/8, packed_linear.h), or a plugin's own (e.g. a LoRA wrapper during
// fine-tuning). A layer that must survive save/load also needs a LinearFormat (linear_format.h).
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace compactmind {

class Linear {
 public:
  virtual ~Linear() = default;
  // input [..., in_features] float32 → [..., out_features] float32.
  virtual at::Tensor forward(const at::Tensor& input) const = 0;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
  // Tensors as written to a checkpoint, keyed by suffix after the layer name ("weight",
  // "weight_scale", ...). The saver converts float tensors to the requested storage dtype, except
  // quantization scales (a suffix ending in "_scale"), which keep their own dtype; integer tensors
  // are written as they are. The tensors may alias the layer's own (they are read, not kept).
  virtual std::vector<std::pair<std::string, at::Tensor>> state() const = 0;
  // Bytes the layer takes in a checkpoint when float tensors are stored as `float_dtype`: exactly
  // the bytes of state()'s tensors as the saver writes them (the size objective of the search).
  virtual int64_t stored_bytes(at::ScalarType float_dtype) const = 0;
  // A deep copy sharing no storage with this layer (trials of a search modify their copies).
  virtual std::unique_ptr<Linear> clone() const = 0;
  // Short name of the representation: "dense", "w8a8", ...
  virtual std::string kind() const = 0;
  // A float [out, in] weight equivalent to what forward applies (dequantized where needed).
  virtual at::Tensor dense_weight() const = 0;
};

// Float weights [out_features, in_features]. `weight` is public on purpose: pruning slices it,
// smoothing rescales it and training updates it in place (it may require grad).
class DenseLinear final : public Linear {
 public:
  explicit DenseLinear(at::Tensor weight);
  at::Tensor weight;

  at::Tensor forward(const at::Tensor& input) const override;
  int64_t in_features() const override { return weight.size(1); }
  int64_t out_features() const override { return weight.size(0); }
  std::vector<std::pair<std::string, at::Tensor>> state() const override;
  int64_t stored_bytes(at::ScalarType float_dtype) const override;
  std::unique_ptr<Linear> clone() const override;
  std::string kind() const override { return "dense"; }
  at::Tensor dense_weight() const override { return weight; }
};

// Returns the DenseLinear behind `linear`, or throws naming `what` if it is another representation
// (e.g. pruning or training an already-quantized layer).
DenseLinear& as_dense(Linear& linear, const std::string& what);
const DenseLinear& as_dense(const Linear& linear, const std::string& what);

}  // namespace compactmind
