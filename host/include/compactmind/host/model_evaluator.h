// Scores a compressed model: perplexity with the reference protocol (the SDK's evaluate_perplexity,
// intermediate values per chunk for early stopping), its size as it would be saved and the ratio to
// the base as stored, and the evaluation record that says what the figure was computed on.
#pragma once

#include "compactmind/host/pipeline_executor.h"
#include "compactmind/perplexity.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>

namespace compactmind::host {

struct ModelScore {
  PerplexityResult perplexity;
  int64_t size_bytes = 0;    // stored_bytes in the base checkpoint's dtype
  double size_ratio = 0.0;   // size_bytes ÷ base checkpoint bytes
  int64_t parameters = 0;
  nlohmann::json evaluation;  // perplexity_json: ppl, windows, seconds, ..., "record"
};

// The size half of the score, known before any evaluation (the search checks its constraint first).
int64_t compressed_size_bytes(const PipelineExecutor& executor, const LlamaModel& model);
double compressed_size_ratio(const PipelineExecutor& executor, int64_t size_bytes);

struct ScoreOptions {
  int64_t max_windows = -1;  // < 0: every window of the evaluation text
  int64_t batch = 1;
  bool show_progress = true;
  // As PerplexityOptions::on_chunk: (windows done, total, PPL so far); false stops the evaluation.
  std::function<bool(int64_t, int64_t, double)> on_chunk;
};

// How far the compressed model's next-token distributions are from the base's on the same windows:
// mean KL(base ‖ compressed) per predicted token (nats) and the share of positions whose most likely
// next token is the same.
struct BaseAgreement {
  double kl_divergence = 0.0;
  double top1_agreement = 0.0;
  int64_t tokens = 0;
};
BaseAgreement compare_with_base(const PipelineExecutor& executor, const LlamaModel& model, int64_t max_windows,
                                int64_t batch);

// Evaluates `model` on the executor's evaluation text at its seqlen. A non-finite loss (NaN/Inf) throws
// std::runtime_error; an evaluation stopped by on_chunk returns with perplexity.stopped_early.
ModelScore score_model(const PipelineExecutor& executor, const LlamaModel& model, const ScoreOptions& options);

}  // namespace compactmind::host
