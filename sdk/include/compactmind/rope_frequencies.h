// The RoPE inverse frequencies of a config (default or scaled), computed as transformers'
// modeling_rope_utils.py does, in float32, so that the angles agree with its to the last bit where the
// operations are the same.
#pragma once

#include "compactmind/llama_config.h"

#include <ATen/ATen.h>

#include <cstdint>

namespace compactmind {

// [head_dim / 2] float32 on `device` for a forward whose positions reach `sequence_length` (only the
// "dynamic" type depends on it: above max_position_embeddings it enlarges the base).
at::Tensor rope_inverse_frequencies(const LlamaConfig& config, int64_t sequence_length, const at::Device& device);

// Whether the frequencies differ with the sequence length (dynamic NTK beyond the trained context).
bool rope_depends_on_length(const LlamaConfig& config, int64_t sequence_length);

}  // namespace compactmind
