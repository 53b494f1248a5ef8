#include "compactmind/generation.h"

#include <c10/core/InferenceMode.h>

#include <stdexcept>

namespace compactmind {

std::vector<int64_t> generate_greedy(const LlamaModel& model, const std::vector<int64_t>& prompt_ids,
                                     const GenerationOptions& options) {
  if (prompt_ids.empty()) throw std::invalid_argument("generate: the prompt has no tokens");
  if (options.max_new_tokens < 0) {
    throw std::invalid_argument("generate: max_new_tokens must be >= 0, got " +
                                std::to_string(options.max_new_tokens));
  }
  const c10::InferenceMode inference;
  std::vector<int64_t> sequence = prompt_ids;
  KVCache cache;
  ForwardOptions forward_options;
  forward_options.cache = &cache;
  // The whole prompt first, then one token per step: each step attends to the cached keys/values.
  at::Tensor input = at::tensor(prompt_ids, at::kLong).unsqueeze(0);
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const at::Tensor logits = model.forward(input, forward_options);  // [1, seq, vocab]
    const int64_t next = logits.select(1, logits.size(1) - 1).argmax(-1).item<int64_t>();
    sequence.push_back(next);
    if (options.stop_at_eos && model.config.is_eos(next)) break;
    input = at::full({1, 1}, next, at::kLong);
  }
  return sequence;
}

}  // namespace compactmind
