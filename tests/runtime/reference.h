// Reference tensors of ../shared/fixtures/reference/<model>.logits.safetensors (transformers' outputs)
// and the loaded fixture models, shared by the runtime tests.
#pragma once

#include "fixtures.h"

#include "compactmind/llama_model.h"
#include "compactmind/safetensors.h"

#include <ATen/ATen.h>

#include <string>

namespace compactmind::test {

struct Reference {
  at::Tensor ids_a;          // [1, 128] int64, starts with BOS
  at::Tensor logits_a;       // [128, vocab]
  at::Tensor hidden_a;       // [layers + 1, 128, hidden]
  at::Tensor ids_b;          // [1, 256] int64
  at::Tensor logits_b;       // [256, vocab]
  at::Tensor greedy_prompt;  // [1, 24] int64
  at::Tensor greedy_out;     // [1, 64] int64, prompt included
};

inline Reference load_reference(const std::string& model_name) {
  const auto reader = SafetensorsReader::open(fixtures_dir() / "reference" / (model_name + ".logits.safetensors"));
  Reference reference;
  reference.ids_a = reader.load("ids_a", at::kLong);
  reference.logits_a = reader.load("logits_a", at::kFloat);
  reference.hidden_a = reader.load("hidden_a", at::kFloat);
  reference.ids_b = reader.load("ids_b", at::kLong);
  reference.logits_b = reader.load("logits_b", at::kFloat);
  reference.greedy_prompt = reader.load("greedy_prompt", at::kLong);
  reference.greedy_out = reader.load("greedy_out", at::kLong);
  return reference;
}

inline double max_abs_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace compactmind::test
