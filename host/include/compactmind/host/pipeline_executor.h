// Runs pipelines on copies of one base model: the base, its tokenizer, the evaluation text and the
// method context (calibration windows, training tokens, the base as distillation teacher) are loaded
// once and shared by every execution, so the trials of a search pay for them once
// (docs/architecture.md).
#pragma once

#include "compactmind/host/data_options.h"
#include "compactmind/host/pipeline.h"
#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/text_data.h"
#include "compactmind/tokenizer.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace compactmind::host {

struct StepRecord {
  std::string method;
  nlohmann::json params;  // resolved
  double seconds = 0.0;
};

struct ExecutedPipeline {
  LlamaModel model;
  std::vector<StepRecord> steps;
};

class PipelineExecutor {
 public:
  // Sets the threads (and logs the count), loads the base model, its tokenizer and the evaluation
  // text; calibration and training text are tokenized on first use (a pipeline without a calibrated
  // or retraining step never reads them). `registry` must outlive the executor.
  PipelineExecutor(const DataOptions& options, const PluginRegistry& registry);

  // Clones the base and applies every step in order, timing each. `on_step_end` (optional) sees each
  // step as it finishes. Throws std::runtime_error naming the step and the plugin when one fails.
  ExecutedPipeline execute(const Pipeline& pipeline, uint64_t seed,
                           const std::function<void(const StepRecord&)>& on_step_end = {}) const;

  const LlamaModel& base() const { return *base_; }
  const TokenStream& eval_stream() const { return eval_stream_; }
  const DataOptions& options() const { return options_; }
  const PluginRegistry& registry() const { return registry_; }
  int threads() const { return threads_; }
  // The float dtype of the base checkpoint: compressed models are sized and saved in it.
  at::ScalarType storage_dtype() const { return storage_dtype_; }
  // Bytes of the base checkpoint's tensors as stored on disk (the size ratio's denominator).
  int64_t base_stored_bytes() const { return base_stored_bytes_; }

 private:
  DataOptions options_;
  const PluginRegistry& registry_;
  int threads_ = 1;
  std::unique_ptr<LlamaModel> base_;
  std::shared_ptr<Tokenizer> tokenizer_;
  TokenStream eval_stream_;
  at::ScalarType storage_dtype_ = at::kHalf;
  int64_t base_stored_bytes_ = 0;
  // Copied for each execution: the copies share the base's cached activation statistics.
  MethodContext context_template_;
};

// "float16" → at::kHalf, "bfloat16" → at::kBFloat16, "float32" → at::kFloat; throws otherwise.
at::ScalarType storage_dtype_from_name(const std::string& name);

}  // namespace compactmind::host
