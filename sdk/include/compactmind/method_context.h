// What the host gives a method besides the model: calibration data and statistics (computed once per
// base model and shared by the trials of a search), the uncompressed base model (a distillation
// teacher), the training text, seed and threads. Filled in by the host; plugins only read.
#pragma once

#include "compactmind/llama_model.h"
#include "compactmind/tokenizer.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace compactmind {

// Per-input-channel abs-max of the input of every linear over the calibration windows,
// keyed by HF module name ("model.layers.0.self_attn.q_proj" → [in_features] float32).
using ActivationStats = std::map<std::string, at::Tensor>;

// The calibration windows of the protocol: the first `samples` windows of `seqlen` tokens of
// `text_file`, tokenized as for evaluation (the whole file, one BOS in front; text_data.h). Fewer
// windows than asked is a warning; none at all an error naming the file.
at::Tensor load_calibration_windows(const Tokenizer& tokenizer, const std::filesystem::path& text_file,
                                    int64_t samples, int64_t seqlen);

// Runs `model` over `windows` [N, L] and records the per-channel abs-max of each linear's input.
ActivationStats collect_activation_abs_max(const LlamaModel& model, const at::Tensor& windows,
                                           int64_t batch = 4);

class MethodContext {
 public:
  // Calibration windows [N, L] int64 (the first N windows of the calibration text).
  const at::Tensor& calibration_windows() const;
  // Activation statistics of `model` over the calibration windows. When `model` is still identical
  // to the base (the first step of a pipeline), the base's statistics are computed once and reused.
  const ActivationStats& activation_stats(const LlamaModel& model);
  // The uncompressed base model, e.g. a distillation teacher.
  const LlamaModel& base_model() const;
  // Token stream [n] int64 of the training text (one BOS in front, as for evaluation).
  const at::Tensor& train_tokens() const;
  uint64_t seed() const { return seed_; }
  int threads() const { return threads_; }
  // True until the host has run a step on the model in hand.
  bool model_is_base() const { return model_is_base_; }

  // ---- host side ----
  void set_calibration_windows(std::function<at::Tensor()> provider);
  void set_base_model(const LlamaModel* base);
  void set_train_tokens(std::function<at::Tensor()> provider);
  void set_seed(uint64_t seed) { seed_ = seed; }
  void set_threads(int threads) { threads_ = threads; }
  void set_model_is_base(bool value) { model_is_base_ = value; }

 private:
  std::function<at::Tensor()> calibration_provider_;
  mutable at::Tensor calibration_windows_;
  std::function<at::Tensor()> train_provider_;
  mutable at::Tensor train_tokens_;
  const LlamaModel* base_model_ = nullptr;
  std::shared_ptr<ActivationStats> base_stats_ = std::make_shared<ActivationStats>();  // shared by copies
  ActivationStats current_stats_;
  uint64_t seed_ = 0;
  int threads_ = 1;
  bool model_is_base_ = true;
};

}  // namespace compactmind
