// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): a frozen dense weight W
// plus a trainable low-rank update, y = x·Wᵀ + (alpha/rank)·(x·Aᵀ)·Bᵀ. A LoraLinear replaces a
// DenseLinear in place during training and is merged back (W += (alpha/rank)·B·A) afterwards, so a
// trained model is a plain DenseLinear model again.
#pragma once

#include "compactmind/linear.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace compactmind {

class LlamaModel;

// Which linears of each decoder layer get adapters (lm_head never does, as in PEFT's defaults).
enum class LoraTargets { kAttention, kMlp, kAll };  // q/k/v/o, gate/up/down, both

LoraTargets parse_lora_targets(const std::string& name);  // "attention" | "mlp" | "all"
std::string lora_targets_name(LoraTargets targets);

struct LoraOptions {
  int64_t rank = 8;
  double alpha = 16.0;
  LoraTargets targets = LoraTargets::kAll;
};

class LoraLinear final : public Linear {
 public:
  // `weight` [out, in] is frozen. A [rank, in] is drawn as PEFT does (kaiming_uniform with a = √5,
  // i.e. U(−1/√in, 1/√in)) from `generator`; B [rank → out] starts at zero, so the wrapped layer
  // initially computes exactly what the dense one did.
  LoraLinear(at::Tensor weight, int64_t rank, double alpha, at::Generator generator);

  at::Tensor weight;  // frozen base [out, in]
  at::Tensor lora_a;  // [rank, in], trainable
  at::Tensor lora_b;  // [out, rank], trainable
  double scaling;     // alpha / rank

  at::Tensor forward(const at::Tensor& input) const override;
  int64_t in_features() const override { return weight.size(1); }
  int64_t out_features() const override { return weight.size(0); }
  // As the merged dense layer, so that a checkpoint written mid-training is a plain model.
  std::vector<std::pair<std::string, at::Tensor>> state() const override;
  int64_t stored_bytes(at::ScalarType float_dtype) const override;
  std::unique_ptr<Linear> clone() const override;
  std::string kind() const override { return "lora"; }
  at::Tensor dense_weight() const override;  // W + scaling·B·A, without grad

 private:
  LoraLinear() = default;
};

// Wraps the target DenseLinears of every decoder layer (their own, possibly pruned, dimensions) and
// returns the adapter tensors (A and B of each wrapped layer) with requires_grad set. Seeded: the same
// seed gives the same A matrices. Throws naming the layer if a target is not a DenseLinear.
std::vector<at::Tensor> apply_lora(LlamaModel& model, const LoraOptions& options, uint64_t seed);

// Replaces every LoraLinear of `model` by a DenseLinear holding W + scaling·B·A. Returns the count.
int64_t merge_lora(LlamaModel& model);

}  // namespace compactmind
