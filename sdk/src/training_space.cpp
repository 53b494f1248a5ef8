// The hyperparameter space both retraining plugins declare, and its reading (training.h).
#include "compactmind/training.h"

#include <stdexcept>

namespace compactmind {

SpaceBuilder retraining_space() {
  SpaceBuilder space;
  space.add_float("lr", 1e-5, 1e-2, 1e-3).log_scale()
      .add_int("steps", 1, 2000, 100).log_scale()
      .add_int("batch", 1, 64, 4).fixed()
      .add_int("seqlen", 16, 4096, 128).fixed()
      .add_categorical("mode", {"full", "lora"}, "lora")
      .add_int("lora_rank", 1, 64, 8).log_scale().when("mode", "lora")
      .add_float("lora_alpha", 1.0, 64.0, 16.0).when("mode", "lora")
      .add_categorical("lora_targets", {"attention", "mlp", "all"}, "all").when("mode", "lora")
      .add_float("warmup_ratio", 0.0, 0.3, 0.1)
      .add_float("weight_decay", 0.0, 0.1, 0.0)
      .add_float("grad_clip", 0.0, 10.0, 1.0).fixed()
      .add_int("seed", 0, 2147483647, 0).fixed();
  return space;
}

TrainingOptions training_options_from(const Params& params) {
  TrainingOptions options;
  options.lr = params.get_float("lr");
  options.steps = params.get_int("steps");
  options.batch = params.get_int("batch");
  options.seqlen = params.get_int("seqlen");
  const std::string mode = params.get_string("mode");
  if (mode == "full") {
    options.mode = TrainingMode::kFull;
  } else if (mode == "lora") {
    options.mode = TrainingMode::kLora;
    // Conditional parameters: a host may leave out those whose condition does not hold; keep the defaults.
    if (params.has("lora_rank")) options.lora.rank = params.get_int("lora_rank");
    if (params.has("lora_alpha")) options.lora.alpha = params.get_float("lora_alpha");
    if (params.has("lora_targets")) {
      options.lora.targets = parse_lora_targets(params.get_string("lora_targets"));
    }
  } else {
    throw std::invalid_argument("mode: unknown value '" + mode + "' (expected full or lora)");
  }
  options.warmup_ratio = params.get_float("warmup_ratio");
  options.weight_decay = params.get_float("weight_decay");
  options.grad_clip = params.get_float("grad_clip");
  options.seed = static_cast<uint64_t>(params.get_int("seed"));
  return options;
}

}  // namespace compactmind
