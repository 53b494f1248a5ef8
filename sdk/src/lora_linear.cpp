// LoRA adapters: wrapping, forward, merging (lora.h).
#include "compactmind/lora.h"

#include "compactmind/llama_model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <stdexcept>

namespace compactmind {

LoraTargets parse_lora_targets(const std::string& name) {
  if (name == "attention") return LoraTargets::kAttention;
  if (name == "mlp") return LoraTargets::kMlp;
  if (name == "all") return LoraTargets::kAll;
  throw std::invalid_argument("lora_targets: unknown value '" + name +
                              "' (expected attention, mlp or all)");
}

std::string lora_targets_name(LoraTargets targets) {
  switch (targets) {
    case LoraTargets::kAttention: return "attention";
    case LoraTargets::kMlp: return "mlp";
    case LoraTargets::kAll: return "all";
  }
  return "all";
}

LoraLinear::LoraLinear(at::Tensor base_weight, int64_t rank, double alpha, at::Generator generator)
    : weight(base_weight.detach()), scaling(alpha / static_cast<double>(rank)) {
  if (rank < 1) throw std::invalid_argument("LoRA: rank must be >= 1, got " + std::to_string(rank));
  if (!(alpha > 0.0)) throw std::invalid_argument("LoRA: alpha must be > 0, got " + std::to_string(alpha));
  const int64_t in = weight.size(1);
  // kaiming_uniform_(a=√5) as PEFT initialises lora_A: gain √(2/(1+5)), bound = gain·√(3/fan_in).
  const double bound = in > 0 ? 1.0 / std::sqrt(static_cast<double>(in)) : 0.0;
  const at::TensorOptions cpu_float = at::TensorOptions().dtype(at::kFloat);
  lora_a = at::empty({rank, in}, cpu_float).uniform_(-bound, bound, generator).to(weight.device());
  lora_b = at::zeros({weight.size(0), rank}, weight.options().dtype(at::kFloat));
}

at::Tensor LoraLinear::forward(const at::Tensor& input) const {
  return at::linear(input, weight) + at::linear(at::linear(input, lora_a), lora_b) * scaling;
}

at::Tensor LoraLinear::dense_weight() const {
  at::NoGradGuard no_grad;
  return weight + at::matmul(lora_b, lora_a) * scaling;
}

std::vector<std::pair<std::string, at::Tensor>> LoraLinear::state() const {
  return {{"weight", dense_weight()}};
}

int64_t LoraLinear::stored_bytes(at::ScalarType float_dtype) const {
  return weight.numel() * static_cast<int64_t>(c10::elementSize(float_dtype));
}

std::unique_ptr<Linear> LoraLinear::clone() const {
  std::unique_ptr<LoraLinear> copy(new LoraLinear());
  copy->weight = weight.clone();
  copy->lora_a = lora_a.detach().clone().requires_grad_(lora_a.requires_grad());
  copy->lora_b = lora_b.detach().clone().requires_grad_(lora_b.requires_grad());
  copy->scaling = scaling;
  return copy;
}

namespace {

// The linears of one decoder layer that `targets` selects, with their HF names' suffixes.
std::vector<std::pair<const char*, std::unique_ptr<Linear>*>> target_slots(DecoderLayer& layer,
                                                                           LoraTargets targets) {
  std::vector<std::pair<const char*, std::unique_ptr<Linear>*>> slots;
  if (targets != LoraTargets::kMlp) {
    slots.insert(slots.end(), {{"self_attn.q_proj", &layer.q_proj},
                               {"self_attn.k_proj", &layer.k_proj},
                               {"self_attn.v_proj", &layer.v_proj},
                               {"self_attn.o_proj", &layer.o_proj}});
  }
  if (targets != LoraTargets::kAttention) {
    slots.insert(slots.end(), {{"mlp.gate_proj", &layer.gate_proj},
                               {"mlp.up_proj", &layer.up_proj},
                               {"mlp.down_proj", &layer.down_proj}});
  }
  return slots;
}

}  // namespace

std::vector<at::Tensor> apply_lora(LlamaModel& model, const LoraOptions& options, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<at::Tensor> adapters;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    for (auto& [suffix, slot] : target_slots(model.layers[i], options.targets)) {
      const std::string name = "model.layers." + std::to_string(i) + "." + suffix;
      const DenseLinear& dense = as_dense(**slot, name);
      auto lora = std::make_unique<LoraLinear>(dense.weight, options.rank, options.alpha, generator);
      lora->lora_a.requires_grad_(true);
      lora->lora_b.requires_grad_(true);
      adapters.push_back(lora->lora_a);
      adapters.push_back(lora->lora_b);
      *slot = std::move(lora);
    }
  }
  return adapters;
}

int64_t merge_lora(LlamaModel& model) {
  int64_t merged = 0;
  for (DecoderLayer& layer : model.layers) {
    for (auto& [suffix, slot] : target_slots(layer, LoraTargets::kAll)) {
      (void)suffix;
      if (auto* lora = dynamic_cast<LoraLinear*>(slot->get())) {
        *slot = std::make_unique<DenseLinear>(lora->dense_weight());
        ++merged;
      }
    }
  }
  return merged;
}

}  // namespace compactmind
