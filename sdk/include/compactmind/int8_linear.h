// W8A8 linear layer (SmoothQuant's "W8A8Linear", executed for real): int8 weights with fp32 scales,
// activations quantized dynamically to int8 at every call, int8 × int8 → int32 GEMM through oneDNN's
// matmul primitive, scales applied to the int32 result. The float weights are not kept.
//
// The same object also runs a fake-quant (float emulation) of exactly the same quantization: the
// reference the int8 path is tested against. One class with an execution flag rather than two
// classes, so that both paths necessarily share the same int8 weights, scales and options.
#pragma once

#include "compactmind/linear.h"

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace compactmind {

// Granularity of the dynamic activation scale. kPerTensor uses one scale per sequence of the batch
// (the whole tensor for a 2-D input): identical to SmoothQuant's per-tensor at batch 1 (their
// evaluation), and it keeps results independent of how many sequences are batched together.
enum class ActQuant { kPerToken, kPerTensor };
// Granularity of the weight scale: one per output channel (row) or one for the whole matrix.
enum class WeightQuant { kPerChannel, kPerTensor };
// kInt8Gemm: the real int8 execution; kFakeQuant: float emulation (quantize → dequantize → fp32 GEMM).
enum class Int8Execution { kInt8Gemm, kFakeQuant };

struct Int8LinearOptions {
  ActQuant act_quant = ActQuant::kPerToken;
  // Fake-quantize the output too, with the activation granularity (SmoothQuant's "quantized BMM
  // input" for q/k/v: fake_quant.py's W8A8Linear uses output_quant = act_quant).
  bool quantize_output = false;
};

std::string to_string(ActQuant value);        // "per_token" | "per_tensor"
std::string to_string(WeightQuant value);     // "per_channel" | "per_tensor"
ActQuant parse_act_quant(const std::string& text);        // throws std::invalid_argument
WeightQuant parse_weight_quant(const std::string& text);  // throws std::invalid_argument

class Int8Linear final : public Linear {
 public:
  // Symmetric abs-max quantization of a float [out, in] weight, as SmoothQuant's
  // quantize_weight_{per_channel,per_tensor}_absmax: scale = max(|W|, 1e-5) / 127.
  static std::unique_ptr<Int8Linear> quantize(const at::Tensor& weight, WeightQuant weight_quant,
                                              const Int8LinearOptions& options);
  // From stored tensors: weight int8 [out, in]; weight_scale float [out, 1] or [out] (per channel)
  // or [1] / scalar (per tensor). Throws std::invalid_argument naming `name` on bad shapes/dtypes.
  Int8Linear(at::Tensor weight, at::Tensor weight_scale, const Int8LinearOptions& options,
             const std::string& name = "Int8Linear");

  at::Tensor forward(const at::Tensor& input) const override;
  int64_t in_features() const override { return weight_.size(1); }
  int64_t out_features() const override { return weight_.size(0); }
  // {"weight": int8 [out, in], "weight_scale": float32 [out, 1] or [1]} (compressed-tensors names).
  std::vector<std::pair<std::string, at::Tensor>> state() const override;
  // int8 weight bytes + fp32 scale bytes, whatever `float_dtype` (the scales stay fp32).
  int64_t stored_bytes(at::ScalarType float_dtype) const override;
  std::unique_ptr<Linear> clone() const override;
  std::string kind() const override { return "w8a8"; }
  at::Tensor dense_weight() const override;

  const at::Tensor& weight() const { return weight_; }
  const at::Tensor& weight_scale() const { return weight_scale_; }
  WeightQuant weight_quant() const;
  const Int8LinearOptions& options() const { return options_; }
  Int8Execution execution() const { return execution_; }
  void set_execution(Int8Execution execution) { execution_ = execution; }

 private:
  at::Tensor forward_int8(const at::Tensor& rows, int64_t rows_per_group) const;
  at::Tensor forward_fake(const at::Tensor& rows, int64_t rows_per_group) const;

  at::Tensor weight_;        // int8 [out, in], contiguous
  at::Tensor weight_scale_;  // float32 [out] (per channel) or [1] (per tensor), contiguous
  Int8LinearOptions options_;
  Int8Execution execution_ = Int8Execution::kInt8Gemm;
};

// Switches every Int8Linear of a list of layers (e.g. LlamaModel::named_linears()) to `execution`;
// returns how many were switched.
int64_t set_int8_execution(const std::vector<std::pair<std::string, Linear*>>& linears,
                           Int8Execution execution);

}  // namespace compactmind
