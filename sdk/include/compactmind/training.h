// Retraining building blocks shared by the `finetune` and `distill` plugins (and open to third-party
// plugins): causal-LM and distillation losses, AdamW, warmup + cosine learning rate, gradient
// clipping, seeded window sampling, guard rails, and one training loop for full or LoRA training.
// Everything runs on LibTorch autograd over at::Tensor (LlamaModel::forward is autograd-friendly).
#pragma once

#include "compactmind/llama_model.h"
#include "compactmind/lora.h"
#include "compactmind/param_space.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace compactmind {

// ---- losses ----

// Mean next-token cross-entropy: logits [B, L, V] at position i predict ids [B, L] at i + 1, so a
// window gives L − 1 predictions (the perplexity protocol of perplexity.h).
at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& ids);

// Hinton et al. 2015 ("Distilling the Knowledge in a Neural Network"):
//   kd_weight · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − kd_weight) · causal_lm_loss.
// The KL is summed over the vocabulary at each position and averaged over all B·L positions (every
// position has a teacher distribution, even the last one, which has no next-token label). T² keeps
// the soft term's gradient scale independent of T. `teacher_logits` must not require grad.
at::Tensor distillation_loss(const at::Tensor& student_logits, const at::Tensor& teacher_logits,
                             const at::Tensor& ids, double temperature, double kd_weight);

// ---- optimisation ----

// Linear warmup to `peak_lr` over `warmup_steps` (step s < warmup gets peak·(s + 1)/warmup, so the
// first step already learns), then cosine decay towards 0 over the remaining steps (as in
// transformers' get_cosine_schedule_with_warmup). `step` counts from 0.
double learning_rate_at(int64_t step, int64_t total_steps, int64_t warmup_steps, double peak_lr);

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"), per parameter p with
// gradient g at step t (from 1) and learning rate lr:
//   p ← p − lr·wd·p;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
//   p ← p − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + eps)
// which is what torch.optim.AdamW computes. Written here on at::Tensor so that the SDK needs no
// torch::optim (and <torch/torch.h>'s compile cost); tests check it against the formula.
class AdamW {
 public:
  AdamW(std::vector<at::Tensor> parameters, AdamWOptions options);
  // Updates every parameter that has a gradient, in place.
  void step(double lr);
  void zero_grad();
  int64_t steps_taken() const { return step_; }

 private:
  std::vector<at::Tensor> parameters_;
  std::vector<at::Tensor> exp_avg_;
  std::vector<at::Tensor> exp_avg_sq_;
  AdamWOptions options_;
  int64_t step_ = 0;
};

// Scales the gradients so that their global L2 norm is at most `max_norm` (as
// torch.nn.utils.clip_grad_norm_: factor max_norm / (norm + 1e-6), applied only when below 1).
// Returns the norm before clipping. max_norm <= 0 only measures.
double clip_grad_norm(const std::vector<at::Tensor>& parameters, double max_norm);

// ---- data ----

// Batches of windows cut from a token stream exactly as calibration and evaluation cut them
// (text_data.h cut_windows: non-overlapping, remainder dropped), visited in a seeded random order:
// every window once per epoch, reshuffled at each epoch (Fisher–Yates on std::mt19937_64, so the
// order is the same on every platform for a seed).
class WindowSampler {
 public:
  WindowSampler(const at::Tensor& token_stream, int64_t seqlen, uint64_t seed);
  at::Tensor next_batch(int64_t batch);  // [batch, seqlen] int64
  int64_t window_count() const { return windows_.size(0); }

 private:
  void shuffle();
  at::Tensor windows_;
  std::vector<int64_t> order_;
  size_t cursor_ = 0;
  std::mt19937_64 rng_;
};

// ---- guard rails ----

// Throws std::invalid_argument if any linear of `model` is not a float DenseLinear (e.g. int8 W8A8):
// retraining needs float weights. `method` names the caller in the message.
void require_float_model(const LlamaModel& model, const std::string& method);

// Throws std::runtime_error naming the step, the loss and the learning rate when `loss` is NaN/Inf
// (LLM-Pruner's post-training on Llama-2 is known to diverge this way).
void check_finite_loss(double loss, int64_t step, int64_t total_steps, double lr,
                       const std::string& method);

// ---- the training loop ----

enum class TrainingMode { kFull, kLora };

struct TrainingOptions {
  double lr = 2e-4;
  int64_t steps = 100;
  int64_t batch = 4;
  int64_t seqlen = 128;
  TrainingMode mode = TrainingMode::kLora;
  LoraOptions lora;
  double warmup_ratio = 0.1;
  double weight_decay = 0.0;
  double grad_clip = 1.0;  // <= 0: no clipping
  uint64_t seed = 0;
};

// Loss of one batch from the student's logits [B, L, V] and the window ids [B, L].
using BatchLoss = std::function<at::Tensor(const at::Tensor& logits, const at::Tensor& ids)>;

struct TrainingReport {
  int64_t steps = 0;
  double first_loss = 0.0;
  double last_loss = 0.0;
  double seconds = 0.0;
  double tokens_per_second = 0.0;
  int64_t trained_parameters = 0;  // elements the optimiser updates
  int threads = 0;
};

// Trains `model` in place on windows of `token_stream` with `loss`, AdamW and warmup + cosine.
// kFull trains model.trainable_parameters(); kLora wraps the target linears in LoraLinear, trains only
// the adapters and merges them back, so that the result is a plain DenseLinear model either way (also
// when training fails). Refuses quantized models; stops with an error on a NaN/Inf loss or gradient.
// Progress (step, loss, lr, tokens/s) goes to the terminal under the label `method`.
TrainingReport train_model(LlamaModel& model, const at::Tensor& token_stream,
                           const TrainingOptions& options, const BatchLoss& loss,
                           const std::string& method);

// ---- the declared space both retraining plugins share ----

// lr, steps, batch, seqlen, mode, lora_rank, lora_alpha, lora_targets, warmup_ratio, weight_decay,
// grad_clip, seed (table in plugins/finetune/README.md).
SpaceBuilder retraining_space();
TrainingOptions training_options_from(const Params& params);

}  // namespace compactmind
