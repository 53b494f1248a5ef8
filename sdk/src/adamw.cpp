// AdamW and global-norm gradient clipping on plain at::Tensor parameters (training.h).
#include "compactmind/training.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace compactmind {

AdamW::AdamW(std::vector<at::Tensor> parameters, AdamWOptions options)
    : parameters_(std::move(parameters)), options_(options) {
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const at::Tensor& parameter = parameters_[i];
    if (!parameter.requires_grad()) {
      throw std::invalid_argument("AdamW: parameter " + std::to_string(i) + " (" +
                                  std::to_string(parameter.numel()) +
                                  " elements) does not require grad");
    }
    exp_avg_.push_back(at::zeros_like(parameter, at::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(at::zeros_like(parameter, at::MemoryFormat::Preserve));
  }
}

void AdamW::step(double lr) {
  at::NoGradGuard no_grad;
  ++step_;
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  for (size_t i = 0; i < parameters_.size(); ++i) {
    at::Tensor& parameter = parameters_[i];
    const at::Tensor& grad = parameter.grad();
    if (!grad.defined()) continue;
    // Decoupled decay: shrinks the weight itself, not the gradient (the point of AdamW over Adam+L2).
    if (options_.weight_decay != 0.0) parameter.mul_(1.0 - lr * options_.weight_decay);
    exp_avg_[i].mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
    exp_avg_sq_[i].mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
    const at::Tensor denominator =
        (exp_avg_sq_[i] / bias_correction2).sqrt_().add_(options_.eps);
    parameter.addcdiv_(exp_avg_[i], denominator, -lr / bias_correction1);
  }
}

void AdamW::zero_grad() {
  // Dropping the gradients (set_to_none) frees their memory between steps.
  for (at::Tensor& parameter : parameters_) parameter.mutable_grad() = at::Tensor();
}

double clip_grad_norm(const std::vector<at::Tensor>& parameters, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> norms;
  for (const at::Tensor& parameter : parameters) {
    if (parameter.grad().defined()) norms.push_back(parameter.grad().norm(2).to(at::kDouble));
  }
  if (norms.empty()) return 0.0;
  const double total = at::stack(norms).norm(2).item<double>();
  if (max_norm > 0.0 && std::isfinite(total)) {
    // As torch.nn.utils.clip_grad_norm_: the 1e-6 keeps the factor finite for tiny norms.
    const double factor = max_norm / (total + 1e-6);
    if (factor < 1.0) {
      for (const at::Tensor& parameter : parameters) {
        if (parameter.grad().defined()) parameter.grad().mul_(factor);
      }
    }
  }
  return total;
}

}  // namespace compactmind
