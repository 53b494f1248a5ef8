// A plugin whose SpaceBuilder fails validation (default outside the bounds): the SDK macro turns the
// exception into {"error": ...} and the host rejects the plugin quoting it.
#include "compactmind/method.h"

namespace {

class Unused final : public compactmind::Method {
 public:
  void apply(compactmind::LlamaModel&, const compactmind::Params&, compactmind::MethodContext&) override {}
};

}  // namespace

COMPACTMIND_PLUGIN(Unused, "bad-space", "1.0", CM_KIND_QUANTIZATION, "Test plugin: invalid space",
                   compactmind::SpaceBuilder().add_float("alpha", 0.0, 1.0, 2.0))
