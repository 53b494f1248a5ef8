// Perplexity with the protocol of the SmoothQuant and GPTQ evaluation scripts (text_data.h cuts the
// windows; each window's loss is the mean cross-entropy of its seqlen − 1 next-token predictions; PPL =
// exp of the mean over windows), batched over windows,
// reporting intermediate values per chunk so that a search can stop a bad trial early.
#pragma once

#include "compactmind/llama_model.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>

namespace compactmind {

struct PerplexityOptions {
  int64_t seqlen = 2048;
  int64_t max_windows = -1;  // < 0: all windows
  int64_t batch = 1;
  bool show_progress = true;  // progress line on a terminal (stderr)
  // Called after each batch with (windows done, total, PPL so far); returning false stops early.
  std::function<bool(int64_t, int64_t, double)> on_chunk;
};

struct PerplexityResult {
  double ppl = 0.0;
  double mean_nll = 0.0;
  int64_t windows = 0;   // windows evaluated
  int64_t tokens = 0;    // windows × seqlen
  double seconds = 0.0;
  bool stopped_early = false;
  bool finite = true;    // false when any window produced NaN/Inf
};

PerplexityResult evaluate_perplexity(const LlamaModel& model, const at::Tensor& stream,
                                     const PerplexityOptions& options);

}  // namespace compactmind
