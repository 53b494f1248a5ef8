// The shared training loop and its guard rails (training.h).
#include "compactmind/training.h"

#include "compactmind/log.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace compactmind {
namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, value);
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void validate(const TrainingOptions& options, const std::string& method) {
  auto fail = [&](const std::string& problem) {
    throw std::invalid_argument(method + ": " + problem);
  };
  if (!(options.lr > 0.0) || !std::isfinite(options.lr)) fail("lr must be a positive number");
  if (options.steps < 1) fail("steps must be >= 1, got " + std::to_string(options.steps));
  if (options.batch < 1) fail("batch must be >= 1, got " + std::to_string(options.batch));
  if (!(options.warmup_ratio >= 0.0 && options.warmup_ratio < 1.0)) {
    fail("warmup_ratio must be in [0, 1), got " + std::to_string(options.warmup_ratio));
  }
  if (options.weight_decay < 0.0) fail("weight_decay must be >= 0");
}

// Puts the model back into a plain, non-training state however training ends (success or error):
// adapters merged into DenseLinears, no parameter left requiring grad or holding a gradient.
class TrainableModel {
 public:
  TrainableModel(LlamaModel& model, const TrainingOptions& options) : model_(model) {
    for (at::Tensor& parameter : model_.trainable_parameters()) parameter.requires_grad_(false);
    if (options.mode == TrainingMode::kLora) {
      lora_ = true;
      parameters_ = apply_lora(model_, options.lora, options.seed);
    } else {
      parameters_ = model_.trainable_parameters();
      for (at::Tensor& parameter : parameters_) parameter.requires_grad_(true);
    }
  }
  ~TrainableModel() {
    if (lora_) {
      merge_lora(model_);
      return;
    }
    for (at::Tensor& parameter : parameters_) {
      parameter.mutable_grad() = at::Tensor();
      parameter.requires_grad_(false);
    }
  }
  TrainableModel(const TrainableModel&) = delete;
  TrainableModel& operator=(const TrainableModel&) = delete;

  const std::vector<at::Tensor>& parameters() const { return parameters_; }

 private:
  LlamaModel& model_;
  std::vector<at::Tensor> parameters_;
  bool lora_ = false;
};

}  // namespace

void require_float_model(const LlamaModel& model, const std::string& method) {
  for (const auto& [name, linear] : model.named_linears()) {
    if (linear->kind() != "dense") {
      throw std::invalid_argument(
          method + ": cannot retrain a quantized model — layer '" + name + "' is '" +
          linear->kind() + "', not float ('dense'); pipelines put retraining before quantization " +
          "(prune → retrain → quantize)");
    }
  }
}

void check_finite_loss(double loss, int64_t step, int64_t total_steps, double lr,
                       const std::string& method) {
  if (std::isfinite(loss)) return;
  throw std::runtime_error(
      method + ": training diverged at step " + std::to_string(step) + " of " +
      std::to_string(total_steps) + ": loss is " + (std::isnan(loss) ? "nan" : "inf") + " (lr " +
      format("%.3g", lr) + "); training stopped — lower `lr`, raise `warmup_ratio` or set " +
      "`grad_clip` (LLM-Pruner's post-training of Llama-2 is known to diverge this way)");
}

TrainingReport train_model(LlamaModel& model, const at::Tensor& token_stream,
                           const TrainingOptions& options, const BatchLoss& loss,
                           const std::string& method) {
  validate(options, method);
  require_float_model(model, method);
  WindowSampler sampler(token_stream, options.seqlen, options.seed);
  // ceil, as transformers' get_warmup_steps does for a warmup_ratio.
  const int64_t warmup_steps =
      static_cast<int64_t>(std::ceil(options.warmup_ratio * static_cast<double>(options.steps)));

  TrainableModel trainable(model, options);
  TrainingReport report;
  report.threads = at::get_num_threads();
  for (const at::Tensor& parameter : trainable.parameters()) report.trained_parameters += parameter.numel();
  log_info(method + ": training " + std::to_string(report.trained_parameters) + " parameters (" +
           (options.mode == TrainingMode::kLora
                ? "LoRA rank " + std::to_string(options.lora.rank) + " on " +
                      lora_targets_name(options.lora.targets)
                : std::string("full")) +
           "), " + std::to_string(options.steps) + " steps of " + std::to_string(options.batch) +
           "×" + std::to_string(options.seqlen) + " tokens from " +
           std::to_string(sampler.window_count()) + " windows, " + std::to_string(report.threads) +
           " threads");

  AdamWOptions adamw;
  adamw.weight_decay = options.weight_decay;
  AdamW optimizer(trainable.parameters(), adamw);
  Progress progress(method, options.steps);
  const auto start = std::chrono::steady_clock::now();
  int64_t tokens = 0;
  for (int64_t step = 0; step < options.steps; ++step) {
    const double lr = learning_rate_at(step, options.steps, warmup_steps, options.lr);
    const at::Tensor ids = sampler.next_batch(options.batch).to(model.device);
    const at::Tensor batch_loss = loss(model.forward(ids), ids);
    const double loss_value = batch_loss.item<double>();
    check_finite_loss(loss_value, step + 1, options.steps, lr, method);
    batch_loss.backward();
    const double grad_norm = clip_grad_norm(trainable.parameters(), options.grad_clip);
    if (!std::isfinite(grad_norm)) {
      throw std::runtime_error(method + ": training diverged at step " + std::to_string(step + 1) +
                               " of " + std::to_string(options.steps) + ": gradient norm is " +
                               format("%g", grad_norm) + " (loss " + format("%.4f", loss_value) +
                               "); training stopped — lower `lr`");
    }
    optimizer.step(lr);
    optimizer.zero_grad();

    tokens += ids.numel();
    if (step == 0) report.first_loss = loss_value;
    report.last_loss = loss_value;
    const double elapsed = seconds_since(start);
    progress.update(step + 1, "loss " + format("%.4f", loss_value) + " lr " + format("%.2e", lr) +
                                  " " + format("%.0f", tokens / elapsed) + " tok/s");
  }
  {
    // A last update can overflow the weights without any loss having shown it yet.
    at::NoGradGuard no_grad;
    for (const at::Tensor& parameter : trainable.parameters()) {
      if (!at::isfinite(parameter).all().item<bool>()) {
        throw std::runtime_error(method + ": training diverged at step " +
                                 std::to_string(options.steps) + " of " +
                                 std::to_string(options.steps) +
                                 ": the last update made weights non-finite; lower `lr`");
      }
    }
  }
  report.steps = options.steps;
  report.seconds = seconds_since(start);
  report.tokens_per_second = tokens / report.seconds;
  progress.finish("loss " + format("%.4f", report.last_loss));
  log_info(method + ": loss " + format("%.4f", report.first_loss) + " → " +
           format("%.4f", report.last_loss) + " in " + std::to_string(report.steps) + " steps, " +
           format("%.1f", report.seconds) + " s, " + format("%.0f", report.tokens_per_second) +
           " tokens/s");
  return report;
}

}  // namespace compactmind
