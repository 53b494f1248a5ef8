// Shared inputs of the retraining tests: tiny-llama2 (loaded once, cloned per test) and a short
// training stream from the fixtures' valid.txt.
#pragma once

#include "compactmind/llama_model.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"
#include "support/fixtures.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace retraining_test {

using compactmind::test::fixtures_dir;

// Training tests run on one thread: on the shared 2-vCPU machine under load, two threads measured
// about 10× slower per step (threads waiting on each other). Determinism is checked at 2 threads.
inline void use_one_thread() { compactmind::set_threads(1); }

inline std::filesystem::path tiny_llama2_dir() { return fixtures_dir() / "models" / "tiny-llama2"; }

// A fresh deep copy of tiny-llama2 (float32) for each caller.
inline compactmind::LlamaModel tiny_llama2() {
  static const compactmind::LlamaModel base = compactmind::LlamaModel::load(tiny_llama2_dir());
  return base.clone();
}

// The first `characters` of valid.txt tokenized with one BOS in front, as the host's train_tokens()
// gives the whole file: enough windows for a few steps while keeping tests fast.
inline at::Tensor training_tokens(size_t characters = 40000) {
  std::ifstream file(fixtures_dir() / "data" / "wikitext-2" / "valid.txt", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  text.resize(std::min(text.size(), characters));
  const compactmind::Tokenizer tokenizer = compactmind::Tokenizer::load(tiny_llama2_dir());
  std::vector<int64_t> ids{tokenizer.bos_id()};
  for (int64_t id : tokenizer.encode(text)) ids.push_back(id);
  return at::tensor(ids, at::TensorOptions().dtype(at::kLong));
}

// Held-out windows from test.txt's start for before/after loss comparisons.
inline at::Tensor held_out_windows(int64_t count, int64_t seqlen) {
  std::ifstream file(fixtures_dir() / "data" / "wikitext-2" / "test.txt", std::ios::binary);
  std::string text(static_cast<size_t>(count * seqlen * 8), '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(file.gcount()));
  const compactmind::Tokenizer tokenizer = compactmind::Tokenizer::load(tiny_llama2_dir());
  std::vector<int64_t> ids = tokenizer.encode(text);
  if (ids.size() < static_cast<size_t>(count * seqlen)) throw std::runtime_error("test.txt too short");
  ids.resize(static_cast<size_t>(count * seqlen));
  return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).reshape({count, seqlen});
}

// A copy of every weight of the model by name (linears as their dense weight), for bitwise comparisons.
inline std::vector<std::pair<std::string, at::Tensor>> all_weights(const compactmind::LlamaModel& model) {
  std::vector<std::pair<std::string, at::Tensor>> weights{{"embed_tokens", model.embed_tokens},
                                                          {"norm", model.norm}};
  for (size_t i = 0; i < model.layers.size(); ++i) {
    weights.emplace_back("input_layernorm." + std::to_string(i), model.layers[i].input_layernorm);
    weights.emplace_back("post_attention_layernorm." + std::to_string(i),
                         model.layers[i].post_attention_layernorm);
  }
  for (const auto& [name, linear] : model.named_linears()) weights.emplace_back(name, linear->dense_weight());
  for (auto& [name, weight] : weights) weight = weight.detach().clone();
  return weights;
}

}  // namespace retraining_test
