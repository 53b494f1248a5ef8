// A well-formed plugin for the host tests: scales (or shifts) the model's final norm weight, so a test
// can see that apply ran with the parameters it passed; "fail" makes apply throw, to check that the
// exception comes back as a status message. CM_TEST_PLUGIN_NAME lets the duplicate-name case reuse it.
#include "compactmind/method.h"

#include <stdexcept>

#ifndef CM_TEST_PLUGIN_NAME
#define CM_TEST_PLUGIN_NAME "test-good"
#endif

namespace {

class ScaleNorm final : public compactmind::Method {
 public:
  void apply(compactmind::LlamaModel& model, const compactmind::Params& params,
             compactmind::MethodContext& /*context*/) override {
    const double scale = params.get_float("scale");
    if (params.get_bool("fail")) throw std::runtime_error("asked to fail (scale " + std::to_string(scale) + ")");
    for (int64_t round = 0; round < params.get_int("repeat"); ++round) {
      if (params.get_string("mode") == "multiply")
        model.norm.mul_(scale);
      else
        model.norm.add_(scale);
    }
  }
};

}  // namespace

COMPACTMIND_PLUGIN(ScaleNorm, CM_TEST_PLUGIN_NAME, "1.2.0", CM_KIND_OTHER,
                   "Test plugin: scales the final norm weight",
                   compactmind::SpaceBuilder()
                       .add_float("scale", 0.1, 10.0, 2.0).log_scale()
                       .add_int("repeat", 1, 4, 1)
                       .add_categorical("mode", {"multiply", "add"}, "multiply")
                       .add_bool("fail", false)
                       .fixed())
