#include "taylor_gradients.h"

#include "compactmind/log.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace compactmind::llm_pruner {

namespace {

// Turns requires_grad on for the weights and restores the previous flags and gradients on exit.
class GradientScope {
 public:
  explicit GradientScope(const std::vector<at::Tensor>& weights) : weights_(weights) {
    for (at::Tensor& weight : weights_) {
      previous_.push_back(weight.requires_grad());
      weight.mutable_grad() = at::Tensor();
      weight.requires_grad_(true);
    }
  }
  ~GradientScope() {
    for (size_t i = 0; i < weights_.size(); ++i) {
      weights_[i].mutable_grad() = at::Tensor();
      weights_[i].requires_grad_(previous_[i]);
    }
  }
  GradientScope(const GradientScope&) = delete;
  GradientScope& operator=(const GradientScope&) = delete;

 private:
  std::vector<at::Tensor> weights_;  // handles sharing the model's tensors
  std::vector<bool> previous_;
};

}  // namespace

std::vector<at::Tensor> causal_lm_gradients(const LlamaModel& model,
                                            const std::vector<at::Tensor>& weights,
                                            const at::Tensor& windows) {
  if (!windows.defined() || windows.dim() != 2 || windows.size(0) == 0 || windows.size(1) < 2) {
    throw std::invalid_argument(
        "llm-pruner: importance=taylor needs calibration windows [N ≥ 1, L ≥ 2] of token ids");
  }
  for (const at::Tensor& weight : weights) {
    if (!weight.is_leaf()) {
      throw std::logic_error("llm-pruner: taylor importance needs leaf weight tensors");
    }
  }
  // The caller (e.g. an evaluation loop) may have turned autograd off; the loss needs it here.
  const c10::InferenceMode no_inference_mode(false);
  const at::AutoGradMode grad_mode(true);
  GradientScope scope(weights);
  const int64_t count = windows.size(0);
  const at::Tensor ids = windows.to(model.device, at::kLong);
  double loss_sum = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    const at::Tensor window = ids[i].unsqueeze(0);
    const at::Tensor logits = model.forward(window);  // [1, L, vocab]
    const int64_t vocab = logits.size(-1);
    const at::Tensor predictions = logits[0].slice(0, 0, -1).reshape({-1, vocab});
    const at::Tensor targets = window[0].slice(0, 1);
    // Mean over the window's L − 1 predictions, divided by N: the sum over windows is the mean loss.
    const at::Tensor loss = at::nll_loss(at::log_softmax(predictions, -1), targets) / count;
    if (!loss.requires_grad()) {
      throw std::runtime_error(
          "llm-pruner: the model's forward ran without autograd (no gradient reaches the pruned "
          "weights), so importance=taylor cannot be computed");
    }
    loss.backward();
    loss_sum += loss.item<double>() * count;
  }
  const double mean_loss = loss_sum / static_cast<double>(count);
  if (!std::isfinite(mean_loss)) {
    throw std::runtime_error("llm-pruner: calibration loss is not finite (" + std::to_string(mean_loss) +
                             "); taylor importance would be meaningless");
  }
  log_info("llm-pruner: taylor gradients from " + std::to_string(count) + " calibration windows of " +
           std::to_string(windows.size(1)) + " tokens, mean loss " + std::to_string(mean_loss));
  std::vector<at::Tensor> gradients;
  gradients.reserve(weights.size());
  for (const at::Tensor& weight : weights) {
    const at::Tensor grad = weight.grad();
    gradients.push_back(grad.defined() ? grad.detach() : at::zeros_like(weight));
  }
  return gradients;
}

}  // namespace compactmind::llm_pruner
