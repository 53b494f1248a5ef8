// Weight-only quantized linear (W4A16 and its 2/3/8-bit siblings) in compressed-tensors'
// "pack-quantized" form, executed for real: the integer weights stay packed in int32 words in
// memory; forward dequantizes a block of output rows at a time, group by group, into one reused
// (thread-local) float buffer and multiplies it with the float activations.
//
// Stored tensors (compressed-tensors PackedQuantizationCompressor):
//   weight_packed      int32 [out, ceil(in / (32 / bits))]: signed levels + 2^(bits-1), 32 / bits
//                      per word, the first in the lowest bits, rows padded with zeros;
//   weight_scale       float32 [out, groups];
//   weight_zero_point  int32 [ceil(out / (32 / bits)), groups]: signed zero points packed the same
//                      way along the output dimension (asymmetric schemes only; symmetric ones have 0);
//   weight_shape       int64 [2] = {out, in}.
// compressed-tensors itself packs only 4 and 8 bits this way; 2 and 3 bits use the same rule
// (3 bits: 10 levels per word, 2 bits unused), a CompactMind extension that vLLM does not load.
#pragma once

#include "compactmind/int_quantizer.h"
#include "compactmind/linear.h"
#include "compactmind/param_space.h"

#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace compactmind {

struct PackedScheme {
  int bits = 4;               // 2, 3, 4 or 8
  int64_t group_size = 128;   // input columns per scale; -1: one group per row (per channel)
  bool symmetric = true;
  IntQuantizer quantizer() const { return {bits, symmetric}; }
  // Groups of a row of `in_features` columns; throws unless group_size divides in_features.
  int64_t groups(int64_t in_features, const std::string& where) const;
};

// The weight-quantization parameters every packed-format method declares the same way (rtn, gptq,
// ...): bits {2, 3, 4, 8} (default 4), group_size {-1, 32, 64, 128} (default -1, per channel, as the
// GPTQ reference) and symmetric (default false). Choices are strings in space declarations.
void declare_packed_scheme(SpaceBuilder& space);
// Those parameters read back; errors name `method`.
PackedScheme packed_scheme_from(const Params& params, const std::string& method);

class PackedLinear final : public Linear {
 public:
  // From unsigned levels [out, in] (integral floats or ints in [0, 2^bits - 1]), scales and zero
  // levels [out, groups] (as quantize_levels / find_quant_params give them).
  PackedLinear(const at::Tensor& levels, const at::Tensor& scale, const at::Tensor& zero, const PackedScheme& scheme);
  // Round-to-nearest of a float [out, in] weight: each group's parameters from its own columns
  // (find_quant_params), no error feedback. The baseline of GPTQ and AWQ.
  static std::unique_ptr<PackedLinear> quantize_rtn(const at::Tensor& weight, const PackedScheme& scheme);
  // From the stored tensors (zero_point undefined for symmetric schemes); throws naming `name`.
  static std::unique_ptr<PackedLinear> from_stored(const at::Tensor& weight_packed, const at::Tensor& weight_scale,
                                                   const at::Tensor& weight_zero_point, int64_t out_features,
                                                   int64_t in_features, const PackedScheme& scheme,
                                                   const std::string& name);

  at::Tensor forward(const at::Tensor& input) const override;
  int64_t in_features() const override { return in_features_; }
  int64_t out_features() const override { return packed_.size(0); }
  // weight_packed, weight_scale (float32, saved as float32: LlamaModel::save keeps *_scale dtypes),
  // weight_shape, and weight_zero_point when asymmetric.
  std::vector<std::pair<std::string, at::Tensor>> state() const override;
  // The bytes of state()'s tensors, whatever `float_dtype` (nothing here is a converted float).
  int64_t stored_bytes(at::ScalarType float_dtype) const override;
  std::unique_ptr<Linear> clone() const override;
  std::string kind() const override { return "w" + std::to_string(scheme_.bits) + "a16"; }
  at::Tensor dense_weight() const override;

  // Bytes this layer holds in memory (packed words, scales, zero levels); the shared forward buffer
  // is not counted (forward_buffer_bytes).
  int64_t resident_bytes() const;
  const PackedScheme& scheme() const { return scheme_; }
  // Unsigned levels [out, in] int32, unpacked (for tests and dense_weight).
  at::Tensor levels() const;
  const at::Tensor& scale() const { return scale_; }

 private:
  PackedLinear() = default;
  // Dequantizes output rows [begin, end) into `rows_out` ((end - begin) × in floats).
  void dequantize_rows(int64_t begin, int64_t end, float* rows_out) const;

  PackedScheme scheme_;
  int64_t in_features_ = 0;
  int64_t group_columns_ = 0;  // group_size, or in_features for one group per row
  at::Tensor packed_;          // int32 [out, words per row]
  at::Tensor scale_;           // float32 [out, groups]
  at::Tensor zero_;            // uint8 [out, groups], unsigned zero levels
};

// Bytes of the thread-local buffer forward dequantizes into on this thread (its high-water mark).
int64_t forward_buffer_bytes();

// Signed levels (int8 values in [-2^(bits-1), 2^(bits-1)-1]) [rows, cols] → int32 [rows, ceil(cols /
// (32 / bits))] as compressed-tensors' pack_to_int32 along dim 1; and back.
at::Tensor pack_int32(const at::Tensor& signed_levels, int bits);
at::Tensor unpack_int32(const at::Tensor& packed, int bits, int64_t cols);

// config.json's "quantization_config" for `scheme` on every Linear but lm_head, as compressed-tensors
// writes a W<bits>A16 preset; `actorder` null or "weight" (GPTQ's activation order with static
// groups); `provider` the plugin that wrote it, `provenance` a free record (under "compactmind").
nlohmann::json pack_quantized_config(const PackedScheme& scheme, const nlohmann::json& actorder,
                                     const std::string& provider, const nlohmann::json& provenance);
// Reads it back; throws naming `config_path` on anything else.
PackedScheme read_pack_quantized_scheme(const nlohmann::json& quantization_config, const std::string& config_path);

}  // namespace compactmind
