#include "compactmind/perplexity.h"

#include "compactmind/log.h"
#include "compactmind/text_data.h"

#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

namespace compactmind {
namespace {

// Mean cross-entropy of each window over its seqlen - 1 next-token predictions: windows [b, L] → [b]
// float64 (accumulated in double so that thousands of windows add up without drift).
at::Tensor window_mean_nll(const LlamaModel& model, const at::Tensor& windows) {
  const int64_t predictions = windows.size(1) - 1;
  const at::Tensor logits = model.forward(windows);  // [b, L, vocab]
  const at::Tensor log_probs = at::log_softmax(logits.narrow(1, 0, predictions), -1);
  const at::Tensor targets = windows.narrow(1, 1, predictions).unsqueeze(-1);
  const at::Tensor target_log_probs = log_probs.gather(-1, targets).squeeze(-1);  // [b, L - 1]
  return target_log_probs.to(at::kDouble).mean(1).neg();
}

std::string format_ppl(double ppl) {
  char text[64];
  std::snprintf(text, sizeof(text), "ppl %.4f", ppl);
  return text;
}

}  // namespace

PerplexityResult evaluate_perplexity(const LlamaModel& model, const at::Tensor& stream,
                                     const PerplexityOptions& options) {
  if (options.batch < 1) {
    throw std::invalid_argument("perplexity: batch must be at least 1, got " + std::to_string(options.batch));
  }
  const c10::InferenceMode inference;
  const at::Tensor windows = cut_windows(stream, options.seqlen, options.max_windows).to(model.device);
  const int64_t total = windows.size(0);
  if (total == 0) {
    throw std::invalid_argument("perplexity: the token stream has " + std::to_string(stream.numel()) +
                                " tokens, fewer than one window of seqlen " + std::to_string(options.seqlen));
  }

  const auto start = std::chrono::steady_clock::now();
  PerplexityResult result;
  double nll_sum = 0.0;
  Progress progress("perplexity", total);
  for (int64_t first = 0; first < total; first += options.batch) {
    const int64_t count = std::min(options.batch, total - first);
    const at::Tensor nll = window_mean_nll(model, windows.narrow(0, first, count)).cpu();
    const double batch_sum = nll.sum().item<double>();
    result.windows += count;
    if (!std::isfinite(batch_sum)) {
      // A diverged model: every later window would be as meaningless, so stop here.
      result.finite = false;
      log_warn("perplexity: non-finite loss in windows " + std::to_string(first) + ".." +
               std::to_string(first + count - 1) + "; evaluation stopped");
      break;
    }
    nll_sum += batch_sum;
    const double ppl_so_far = std::exp(nll_sum / static_cast<double>(result.windows));
    if (options.show_progress) progress.update(result.windows, format_ppl(ppl_so_far));
    if (options.on_chunk && !options.on_chunk(result.windows, total, ppl_so_far)) {
      result.stopped_early = result.windows < total;
      break;
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.tokens = result.windows * options.seqlen;
  if (result.finite) {
    result.mean_nll = nll_sum / static_cast<double>(result.windows);
    result.ppl = std::exp(result.mean_nll);
  } else {
    result.mean_nll = std::numeric_limits<double>::quiet_NaN();
    result.ppl = std::numeric_limits<double>::quiet_NaN();
  }
  if (options.show_progress) {
    // finish() reports every window done: only true when the loop ran to the end.
    if (result.windows == total && result.finite) {
      progress.finish(format_ppl(result.ppl));
    } else {
      progress.update(result.windows, result.finite ? format_ppl(result.ppl) : "non-finite loss");
    }
  }
  return result;
}

}  // namespace compactmind
