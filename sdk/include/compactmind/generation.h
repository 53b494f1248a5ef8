// Greedy decoding with the KV cache (transformers' generate with do_sample=False).
#pragma once

#include "compactmind/llama_model.h"

#include <cstdint>
#include <vector>

namespace compactmind {

struct GenerationOptions {
  int64_t max_new_tokens = 32;
  bool stop_at_eos = true;  // stop after an EOS of the model (config.is_eos) is produced
};

// Returns the prompt followed by the generated ids (as transformers' generate). `prompt_ids` must
// already hold the BOS if the tokenizer adds one.
std::vector<int64_t> generate_greedy(const LlamaModel& model, const std::vector<int64_t>& prompt_ids,
                                     const GenerationOptions& options = {});

}  // namespace compactmind
