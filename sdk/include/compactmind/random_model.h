// LLaMA models with random weights, of any shape: for tests, and for benchmarks at real model sizes
// (e.g. TinyLlama-1.1B, configs/shapes/) without downloading weights.
#pragma once

#include "compactmind/llama_model.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>

namespace compactmind {

struct RandomModelOptions {
  uint64_t seed = 0;
  double weight_std = 0.02;                // transformers' default initializer_range
  at::ScalarType float_dtype = at::kHalf;  // storage dtype of the written checkpoint
  std::filesystem::path tokenizer_from;    // when set, tokenizer files are copied from this folder
  int64_t max_shard_bytes = int64_t(2) << 30;
  bool overwrite = false;  // replace a model folder already at out_dir (save_target.h)
};

// Linear and embedding weights ~ N(0, weight_std²), RMSNorm weights 1 (as transformers initialises
// LLaMA). Each tensor draws from its own generator seeded by (seed, tensor name), so the values do
// not depend on the order of generation: random_llama_model(c, s) equals what
// write_random_llama_model(c, dir, {s, ..., float32}) writes.
LlamaModel random_llama_model(const LlamaConfig& config, uint64_t seed, double weight_std = 0.02,
                              at::Device device = at::kCPU);

// Writes the checkpoint (safetensors + config.json + generation_config.json [+ tokenizer files])
// atomically, generating one tensor at a time so that memory stays at one tensor, not one model.
void write_random_llama_model(const LlamaConfig& config, const std::filesystem::path& out_dir,
                              const RandomModelOptions& options);

}  // namespace compactmind
