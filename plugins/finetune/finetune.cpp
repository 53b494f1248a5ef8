// `finetune`: causal-LM fine-tuning (full or LoRA, merged at the end) on the host's training text.
// The training code lives in the SDK (compactmind/training.h), shared with `distill`.
#include "compactmind/method.h"
#include "compactmind/training.h"

namespace {

class Finetune final : public compactmind::Method {
 public:
  void apply(compactmind::LlamaModel& model, const compactmind::Params& params,
             compactmind::MethodContext& context) override {
    const compactmind::TrainingOptions options = compactmind::training_options_from(params);
    compactmind::train_model(model, context.train_tokens(), options, &compactmind::causal_lm_loss,
                             "finetune");
  }
};

}  // namespace

COMPACTMIND_PLUGIN(Finetune, "finetune", "1.0.0", CM_KIND_RETRAINING,
                   "causal-LM fine-tuning (full or LoRA merged into the weights) with AdamW, warmup "
                   "and cosine decay",
                   compactmind::retraining_space())
