// `distill`: knowledge distillation from the uncompressed base model (the host's base_model()) into
// the compressed one, loss w·T²·KL(teacher_T ‖ student_T) + (1 − w)·CE (Hinton et al. 2015). Same
// optimiser, schedule and full/LoRA modes as `finetune` (compactmind/training.h).
#include "compactmind/method.h"
#include "compactmind/training.h"

#include <stdexcept>
#include <string>

namespace {

class Distill final : public compactmind::Method {
 public:
  void apply(compactmind::LlamaModel& model, const compactmind::Params& params,
             compactmind::MethodContext& context) override {
    const compactmind::TrainingOptions options = compactmind::training_options_from(params);
    const double temperature = params.get_float("temperature");
    const double kd_weight = params.get_float("kd_weight");
    const compactmind::LlamaModel& teacher = context.base_model();
    if (teacher.config.vocab_size != model.config.vocab_size) {
      throw std::invalid_argument("distill: the teacher's vocabulary (" +
                                  std::to_string(teacher.config.vocab_size) +
                                  ") differs from the student's (" +
                                  std::to_string(model.config.vocab_size) + ")");
    }
    auto loss = [&](const at::Tensor& student_logits, const at::Tensor& ids) {
      at::Tensor teacher_logits;
      {
        // NoGradGuard, not InferenceMode: the teacher's logits enter the student's autograd graph
        // (the KL saves them for backward), which inference tensors may not.
        at::NoGradGuard no_grad;
        teacher_logits = teacher.forward(ids.to(teacher.device)).to(student_logits.device());
      }
      return compactmind::distillation_loss(student_logits, teacher_logits, ids, temperature,
                                            kd_weight);
    };
    compactmind::train_model(model, context.train_tokens(), options, loss, "distill");
  }
};

compactmind::SpaceBuilder distill_space() {
  compactmind::SpaceBuilder space = compactmind::retraining_space();
  space.add_float("temperature", 1.0, 8.0, 2.0).add_float("kd_weight", 0.0, 1.0, 0.5);
  return space;
}

}  // namespace

COMPACTMIND_PLUGIN(Distill, "distill", "1.0.0", CM_KIND_RETRAINING,
                   "knowledge distillation from the uncompressed base model (KL at temperature T "
                   "plus cross-entropy), full or LoRA",
                   distill_space())
