// Training losses: causal-LM cross-entropy and Hinton distillation (training.h).
#include "compactmind/training.h"

#include <stdexcept>
#include <string>

namespace compactmind {
namespace {

std::string shape_text(const at::Tensor& tensor) {
  std::string text = "[";
  for (int64_t d = 0; d < tensor.dim(); ++d) text += (d ? "," : "") + std::to_string(tensor.size(d));
  return text + "]";
}

void check_logits_and_ids(const at::Tensor& logits, const at::Tensor& ids, const char* what) {
  if (logits.dim() != 3 || ids.dim() != 2 || logits.size(0) != ids.size(0) ||
      logits.size(1) != ids.size(1)) {
    throw std::invalid_argument(std::string(what) + ": logits must be [B, L, V] and ids [B, L], got " +
                                shape_text(logits) + " and " + shape_text(ids));
  }
  if (ids.size(1) < 2) {
    throw std::invalid_argument(std::string(what) + ": windows of " + std::to_string(ids.size(1)) +
                                " token(s) have no next-token prediction (need seqlen >= 2)");
  }
}

}  // namespace

at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& ids) {
  check_logits_and_ids(logits, ids, "causal_lm_loss");
  const int64_t length = ids.size(1);
  const int64_t vocab = logits.size(2);
  const at::Tensor predictions = logits.narrow(1, 0, length - 1).reshape({-1, vocab});
  const at::Tensor targets = ids.narrow(1, 1, length - 1).reshape({-1});
  return at::cross_entropy_loss(predictions.to(at::kFloat), targets);
}

at::Tensor distillation_loss(const at::Tensor& student_logits, const at::Tensor& teacher_logits,
                             const at::Tensor& ids, double temperature, double kd_weight) {
  check_logits_and_ids(student_logits, ids, "distillation_loss");
  if (!teacher_logits.sizes().equals(student_logits.sizes())) {
    throw std::invalid_argument("distillation_loss: teacher logits " + shape_text(teacher_logits) +
                                " differ from student logits " + shape_text(student_logits) +
                                " (teacher and student must share the vocabulary)");
  }
  if (!(temperature > 0.0)) {
    throw std::invalid_argument("distillation_loss: temperature must be > 0, got " +
                                std::to_string(temperature));
  }
  if (!(kd_weight >= 0.0 && kd_weight <= 1.0)) {
    throw std::invalid_argument("distillation_loss: kd_weight must be in [0, 1], got " +
                                std::to_string(kd_weight));
  }
  at::Tensor loss = at::zeros({}, student_logits.options().dtype(at::kFloat));
  if (kd_weight > 0.0) {
    const at::Tensor log_student = at::log_softmax(student_logits.to(at::kFloat) / temperature, -1);
    const at::Tensor log_teacher = at::log_softmax(teacher_logits.to(at::kFloat) / temperature, -1);
    const at::Tensor kl = (log_teacher.exp() * (log_teacher - log_student)).sum(-1).mean();
    loss = loss + kd_weight * temperature * temperature * kl;
  }
  if (kd_weight < 1.0) loss = loss + (1.0 - kd_weight) * causal_lm_loss(student_logits, ids);
  return loss;
}

}  // namespace compactmind
