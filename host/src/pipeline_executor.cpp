// The pipeline executor (pipeline_executor.h).
#include "compactmind/host/pipeline_executor.h"

#include "compactmind/host/cli_checks.h"
#include "compactmind/log.h"
#include "compactmind/safetensors.h"

#include <chrono>
#include <stdexcept>

namespace compactmind::host {
namespace {

// A provider that computes its tensor once and hands the same tensor to every context copied from the
// template (MethodContext caches per copy; the trials of a search would otherwise re-tokenize).
std::function<at::Tensor()> memoized(std::function<at::Tensor()> compute) {
  auto cache = std::make_shared<at::Tensor>();
  return [cache, compute = std::move(compute)] {
    if (!cache->defined()) *cache = compute();
    return *cache;
  };
}

int64_t checkpoint_tensor_bytes(const std::filesystem::path& model_dir) {
  const SafetensorsReader reader = SafetensorsReader::open(model_dir);
  int64_t bytes = 0;
  for (const auto& name : reader.names()) {
    const SafetensorsTensorInfo& info = reader.info(name);
    bytes += static_cast<int64_t>(info.end - info.begin);
  }
  return bytes;
}

}  // namespace

at::ScalarType storage_dtype_from_name(const std::string& name) {
  if (name == "float16") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float32") return at::kFloat;
  throw std::runtime_error("unsupported checkpoint dtype '" + name + "' (expected float16, bfloat16 or float32)");
}

PipelineExecutor::PipelineExecutor(const DataOptions& options, const PluginRegistry& registry)
    : options_(options), registry_(registry) {
  threads_ = apply_threads(options_.threads, options_.oversubscribe);
  log_info("threads: " + std::to_string(threads_));
  base_ = std::make_unique<LlamaModel>(LlamaModel::load(options_.model_dir));
  warn_if_beyond_positions("--seqlen", options_.seqlen, base_->config.max_position_embeddings, options_.model_dir);
  warn_if_beyond_positions("--calib-seqlen", options_.calib_seqlen, base_->config.max_position_embeddings,
                           options_.model_dir);
  tokenizer_ = std::make_shared<Tokenizer>(Tokenizer::load(options_.model_dir, parse_tokenizer_kind(options_.tokenizer)));
  storage_dtype_ = storage_dtype_from_name(base_->config.storage_dtype);
  base_stored_bytes_ = checkpoint_tensor_bytes(options_.model_dir);
  // One BOS in front as the tokenizer is configured, exactly as `compactmind eval` does.
  eval_stream_ = tokenize_file(*tokenizer_, options_.data, tokenizer_->add_bos_token());
  log_info("evaluation text: " + options_.data + " → " + std::to_string(eval_stream_.ids.numel()) + " tokens");

  const auto tokenizer = tokenizer_;
  const std::string calib_data = options_.calib_data;
  const int64_t calib_seqlen = options_.calib_seqlen;
  const int64_t calib_samples = options_.calib_samples;
  context_template_.set_calibration_windows(memoized([tokenizer, calib_data, calib_seqlen, calib_samples] {
    const TokenStream stream = tokenize_file(*tokenizer, calib_data, tokenizer->add_bos_token());
    at::Tensor windows = cut_windows(stream.ids, calib_seqlen, calib_samples);
    log_info("calibration: " + std::to_string(windows.size(0)) + " windows of " + std::to_string(calib_seqlen) +
             " tokens from " + calib_data);
    if (windows.size(0) < calib_samples)
      log_warn("calibration: '" + calib_data + "' holds only " + std::to_string(windows.size(0)) +
               " windows of " + std::to_string(calib_seqlen) + " tokens, fewer than --calib-samples " +
               std::to_string(calib_samples));
    return windows;
  }));
  const std::string train_data = options_.train_data;
  context_template_.set_train_tokens(memoized([tokenizer, train_data] {
    TokenStream stream = tokenize_file(*tokenizer, train_data, tokenizer->add_bos_token());
    log_info("training text: " + train_data + " → " + std::to_string(stream.ids.numel()) + " tokens");
    return stream.ids;
  }));
  context_template_.set_base_model(base_.get());
  context_template_.set_threads(threads_);
}

ExecutedPipeline PipelineExecutor::execute(const Pipeline& pipeline, uint64_t seed,
                                           const std::function<void(const StepRecord&)>& on_step_end) const {
  ExecutedPipeline result{base_->clone(), {}};
  MethodContext context = context_template_;
  context.set_seed(seed);
  context.set_model_is_base(true);
  for (size_t i = 0; i < pipeline.steps.size(); ++i) {
    const PipelineStep& step = pipeline.steps[i];
    const auto start = std::chrono::steady_clock::now();
    try {
      registry_.apply(step.method, result.model, step.params, context);
    } catch (const std::exception& error) {
      throw std::runtime_error("pipeline step " + std::to_string(i + 1) + " (" + step.method + "): " + error.what());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    context.set_model_is_base(false);
    result.steps.push_back({step.method, step.params, seconds});
    if (on_step_end) on_step_end(result.steps.back());
  }
  return result;
}

}  // namespace compactmind::host
