// The llm-pruner plugin: its declared space and the Method that maps resolved parameters onto
// prune_model (llm_pruner.h). Method and parameters: README.md.
#include "llm_pruner.h"
#include "pruning_settings.h"

#include "compactmind/method.h"

#include <stdexcept>

namespace compactmind::llm_pruner {

namespace {

// The declared space (README.md has it as a table). The block range and the seed are fixed: the
// range's default already follows the paper's recipe scaled to the model's depth, and a search over
// seeds would only fit noise.
SpaceBuilder declared_space() {
  SpaceBuilder space;
  space.add_float("ratio", kMinRatio, kMaxRatio, 0.25)
      .add_categorical("importance", {"l2", "l1", "taylor", "random"}, "taylor")
      .add_categorical("target", {"attention", "mlp", "both"}, "both")
      .add_int("layer_start", kAutoLayer, 1023, kAutoLayer)
      .fixed()
      .add_int("layer_end", kAutoLayer, 1024, kAutoLayer)
      .fixed()
      .add_categorical("aggregation", {"sum", "mean", "max"}, "sum")
      .add_int("seed", 0, 2147483647, 0)
      .when("importance", "random")
      .fixed();
  return space;
}

PruneSettings settings_from(const Params& params) {
  PruneSettings settings;
  settings.ratio = params.get_float("ratio");
  settings.criterion = parse_criterion(params.get_string("importance"));
  settings.target = parse_target(params.get_string("target"));
  settings.layer_start = params.get_int("layer_start");
  settings.layer_end = params.get_int("layer_end");
  settings.aggregation = parse_aggregation(params.get_string("aggregation"));
  if (params.has("seed")) settings.seed = static_cast<uint64_t>(params.get_int("seed"));
  return settings;
}

class LlmPrunerMethod final : public Method {
 public:
  void apply(LlamaModel& model, const Params& params, MethodContext& context) override {
    const PruneSettings settings = settings_from(params);
    at::Tensor windows;
    if (settings.criterion == Criterion::kTaylor) windows = calibration_windows_of(context);
    prune_model(model, settings, windows);
  }

 private:
  static at::Tensor calibration_windows_of(MethodContext& context) {
    try {
      return context.calibration_windows();
    } catch (const std::exception& error) {
      throw std::invalid_argument(
          std::string("llm-pruner: importance=taylor needs calibration data, and the context has "
                      "none (") + error.what() + "); use importance=l2, l1 or random");
    }
  }
};

}  // namespace

}  // namespace compactmind::llm_pruner

COMPACTMIND_PLUGIN(compactmind::llm_pruner::LlmPrunerMethod, "llm-pruner", "1.0.0", CM_KIND_PRUNING,
                   "LLM-Pruner structured pruning: removes whole attention key/value groups and MLP "
                   "channels by l2/l1/taylor/random importance",
                   compactmind::llm_pruner::declared_space())
