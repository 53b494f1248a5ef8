// MethodContext (method_context.h) and the calibration statistics every method shares.
#include "compactmind/method_context.h"

#include "compactmind/log.h"
#include "compactmind/text_data.h"

#include <stdexcept>
#include <utility>

namespace compactmind {
namespace {

void check_windows(const at::Tensor& windows, const char* what) {
  if (!windows.defined() || windows.dim() != 2 || windows.size(0) == 0 || windows.size(1) == 0 ||
      windows.scalar_type() != at::kLong)
    throw std::runtime_error(std::string(what) + " must be a non-empty [windows, seqlen] int64 tensor, got " +
                             (windows.defined() ? c10::str(windows.sizes(), " ", windows.scalar_type())
                                                : std::string("nothing")));
}

}  // namespace

at::Tensor load_calibration_windows(const Tokenizer& tokenizer, const std::filesystem::path& text_file,
                                    int64_t samples, int64_t seqlen) {
  if (samples < 1 || seqlen < 2)
    throw std::invalid_argument("calibration needs ≥ 1 sample of ≥ 2 tokens, got " + std::to_string(samples) +
                                " × " + std::to_string(seqlen));
  const TokenStream stream = tokenize_file(tokenizer, text_file);
  at::Tensor windows = cut_windows(stream.ids, seqlen, samples);
  if (windows.size(0) == 0)
    throw std::runtime_error("calibration text '" + text_file.string() + "' has " + std::to_string(stream.ids.numel()) +
                             " tokens, fewer than one window of " + std::to_string(seqlen));
  if (windows.size(0) < samples)
    log_warn("calibration text '" + text_file.string() + "' gives only " + std::to_string(windows.size(0)) +
             " windows of " + std::to_string(seqlen) + " tokens (" + std::to_string(samples) + " asked)");
  return windows;
}

ActivationStats collect_activation_abs_max(const LlamaModel& model, const at::Tensor& windows, int64_t batch) {
  check_windows(windows, "calibration windows");
  if (batch < 1) throw std::invalid_argument("calibration batch must be ≥ 1, got " + std::to_string(batch));
  ActivationStats running;
  {
    // As SmoothQuant's get_act_scales: a forward hook on every linear, max over all tokens of |x|.
    c10::InferenceMode inference;
    const LinearInputObserver observer = [&running](const std::string& name, const at::Tensor& input) {
      const at::Tensor channel_max =
          input.detach().abs().reshape({-1, input.size(-1)}).amax(0).to(at::kCPU, at::kFloat);
      auto found = running.find(name);
      if (found == running.end()) running.emplace(name, channel_max);
      else found->second = at::maximum(found->second, channel_max);
    };
    ForwardOptions options;
    options.observer = &observer;
    const int64_t count = windows.size(0);
    Progress progress("calibration", count);
    for (int64_t start = 0; start < count; start += batch) {
      const int64_t end = std::min(count, start + batch);
      model.forward(windows.slice(0, start, end).to(model.device), options);
      progress.update(end);
    }
    progress.finish(std::to_string(count) + " windows × " + std::to_string(windows.size(1)) + " tokens");
  }
  // Outside InferenceMode: clones are ordinary tensors that any later code may use freely.
  ActivationStats stats;
  for (const auto& [name, linear] : model.named_linears()) {
    const auto found = running.find(name);
    // A block pruned to nothing (no heads, no MLP channels) is skipped by the forward pass.
    if (found == running.end() && linear->out_features() == 0) {
      stats.emplace(name, at::zeros({linear->in_features()}));
      continue;
    }
    if (found == running.end())
      throw std::runtime_error("calibration: the forward pass reported no input for linear '" + name + "'");
    if (found->second.numel() != linear->in_features())
      throw std::runtime_error("calibration: linear '" + name + "' saw inputs of " +
                               std::to_string(found->second.numel()) + " features, it has " +
                               std::to_string(linear->in_features()));
    stats.emplace(name, found->second.clone());
  }
  return stats;
}

const at::Tensor& MethodContext::calibration_windows() const {
  if (!calibration_windows_.defined()) {
    if (!calibration_provider_)
      throw std::runtime_error("this method needs calibration data, and none was given (--calib-data FILE)");
    at::Tensor windows = calibration_provider_();
    check_windows(windows, "calibration windows");
    calibration_windows_ = std::move(windows);
  }
  return calibration_windows_;
}

const ActivationStats& MethodContext::activation_stats(const LlamaModel& model) {
  if (model_is_base_) {
    // Shared by every copy of this context: the trials of a search calibrate the base once.
    if (base_stats_->empty()) *base_stats_ = collect_activation_abs_max(model, calibration_windows());
    return *base_stats_;
  }
  current_stats_ = collect_activation_abs_max(model, calibration_windows());
  return current_stats_;
}

const LlamaModel& MethodContext::base_model() const {
  if (base_model_ == nullptr) throw std::runtime_error("this method needs the base model, and the host set none");
  return *base_model_;
}

const at::Tensor& MethodContext::train_tokens() const {
  if (!train_tokens_.defined()) {
    if (!train_provider_)
      throw std::runtime_error("this method needs training text, and none was given (--train-data FILE)");
    at::Tensor tokens = train_provider_();
    if (!tokens.defined() || tokens.dim() != 1 || tokens.numel() < 2 || tokens.scalar_type() != at::kLong)
      throw std::runtime_error("training tokens must be a [n ≥ 2] int64 stream, got " +
                               (tokens.defined() ? c10::str(tokens.sizes(), " ", tokens.scalar_type())
                                                 : std::string("nothing")));
    train_tokens_ = std::move(tokens);
  }
  return train_tokens_;
}

void MethodContext::set_calibration_windows(std::function<at::Tensor()> provider) {
  calibration_provider_ = std::move(provider);
  calibration_windows_ = at::Tensor();
  // New data, new statistics; contexts copied earlier keep the cache of their own data.
  base_stats_ = std::make_shared<ActivationStats>();
}

void MethodContext::set_base_model(const LlamaModel* base) {
  base_model_ = base;
  base_stats_ = std::make_shared<ActivationStats>();
}

void MethodContext::set_train_tokens(std::function<at::Tensor()> provider) {
  train_provider_ = std::move(provider);
  train_tokens_ = at::Tensor();
}

}  // namespace compactmind
