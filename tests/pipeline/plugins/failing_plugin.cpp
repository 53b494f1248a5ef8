// A plugin whose apply always throws, for the pipeline tests: a search that samples it must record the
// trial as failed (with this message) and go on.
#include "compactmind/method.h"

#include <stdexcept>
#include <string>

namespace {

class AlwaysFails final : public compactmind::Method {
 public:
  void apply(compactmind::LlamaModel& /*model*/, const compactmind::Params& params,
             compactmind::MethodContext& /*context*/) override {
    throw std::runtime_error("deliberate failure at level " + std::to_string(params.get_int("level")));
  }
};

}  // namespace

COMPACTMIND_PLUGIN(AlwaysFails, "always-fails", "0.1.0", CM_KIND_QUANTIZATION,
                   "Test plugin: apply always throws",
                   compactmind::SpaceBuilder().add_int("level", 1, 3, 1))
