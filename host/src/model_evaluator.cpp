// Scoring a compressed model (model_evaluator.h).
#include "compactmind/host/model_evaluator.h"

#include "compactmind/evaluation_record.h"

#include <algorithm>
#include <stdexcept>

namespace compactmind::host {

int64_t compressed_size_bytes(const PipelineExecutor& executor, const LlamaModel& model) {
  return model.stored_bytes(executor.storage_dtype());
}

double compressed_size_ratio(const PipelineExecutor& executor, int64_t size_bytes) {
  return static_cast<double>(size_bytes) / static_cast<double>(executor.base_stored_bytes());
}

BaseAgreement compare_with_base(const PipelineExecutor& executor, const LlamaModel& model, int64_t max_windows,
                                int64_t batch) {
  c10::InferenceMode inference;
  const at::Tensor windows = cut_windows(executor.eval_stream().ids, executor.options().seqlen, max_windows);
  double kl_sum = 0.0;
  int64_t agree = 0, tokens = 0;
  for (int64_t start = 0; start < windows.size(0); start += batch) {
    const at::Tensor ids = windows.slice(0, start, std::min(windows.size(0), start + batch));
    // Positions 0..L-2 predict the next token, as in the perplexity protocol.
    const at::Tensor base_logp =
        at::log_softmax(executor.base().forward(ids.to(executor.base().device)).slice(1, 0, -1).to(at::kCPU), -1);
    const at::Tensor model_logp = at::log_softmax(model.forward(ids.to(model.device)).slice(1, 0, -1).to(at::kCPU), -1);
    kl_sum += (base_logp.exp() * (base_logp - model_logp)).sum().item<double>();
    agree += base_logp.argmax(-1).eq(model_logp.argmax(-1)).sum().item<int64_t>();
    tokens += base_logp.size(0) * base_logp.size(1);
  }
  BaseAgreement agreement;
  agreement.tokens = tokens;
  if (tokens > 0) {
    agreement.kl_divergence = kl_sum / static_cast<double>(tokens);
    agreement.top1_agreement = static_cast<double>(agree) / static_cast<double>(tokens);
  }
  return agreement;
}

ModelScore score_model(const PipelineExecutor& executor, const LlamaModel& model, const ScoreOptions& options) {
  ModelScore score;
  score.size_bytes = compressed_size_bytes(executor, model);
  score.size_ratio = compressed_size_ratio(executor, score.size_bytes);
  score.parameters = model.parameter_count();

  PerplexityOptions perplexity;
  perplexity.seqlen = executor.options().seqlen;
  perplexity.max_windows = options.max_windows;
  perplexity.batch = options.batch;
  perplexity.show_progress = options.show_progress;
  perplexity.on_chunk = options.on_chunk;
  score.perplexity = evaluate_perplexity(model, executor.eval_stream().ids, perplexity);
  if (score.perplexity.windows == 0)
    throw std::runtime_error("evaluation text '" + executor.options().data + "' holds no full window of " +
                             std::to_string(perplexity.seqlen) + " tokens");
  if (!score.perplexity.finite)
    throw std::runtime_error("the compressed model produced a non-finite loss (NaN/Inf) on '" +
                             executor.options().data + "'");
  // The record names the base model's folder: the compressed model exists only in memory here.
  const EvaluationRecord record = make_evaluation_record(executor.eval_stream(), executor.options().model_dir,
                                                         perplexity.seqlen, score.perplexity.windows);
  score.evaluation = perplexity_json(score.perplexity, record, executor.threads());
  return score;
}

}  // namespace compactmind::host
