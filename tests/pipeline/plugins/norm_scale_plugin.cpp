// A third-party-style plugin for the pipeline tests, built as its own target and dropped into a test
// plugin folder: it multiplies every RMSNorm weight by `scale` (a "pruning" method only in name, so that
// the search places it in single and hybrid pipelines). `poison` writes a NaN into the final norm, so a
// test can see the host turn a non-finite loss into a clear failure.
#include "compactmind/method.h"

#include <limits>

namespace {

class NormScale final : public compactmind::Method {
 public:
  void apply(compactmind::LlamaModel& model, const compactmind::Params& params,
             compactmind::MethodContext& /*context*/) override {
    const double scale = params.get_float("scale");
    for (auto& layer : model.layers) {
      layer.input_layernorm.mul_(scale);
      layer.post_attention_layernorm.mul_(scale);
    }
    model.norm.mul_(scale);
    if (params.get_bool("poison")) model.norm[0] = std::numeric_limits<float>::quiet_NaN();
  }
};

}  // namespace

COMPACTMIND_PLUGIN(NormScale, "norm-scale", "0.1.0", CM_KIND_PRUNING,
                   "Test plugin: multiplies every RMSNorm weight by a factor",
                   compactmind::SpaceBuilder()
                       .add_float("scale", 0.8, 1.25, 1.0)
                       .add_bool("poison", false)
                       .fixed())
