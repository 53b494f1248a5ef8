// A plugin whose method constructor throws: the host must reject it at load time (factory probe),
// quoting the exception's message.
#include "compactmind/method.h"

#include <stdexcept>

namespace {

class CannotConstruct final : public compactmind::Method {
 public:
  CannotConstruct() { throw std::runtime_error("cannot allocate the workspace"); }
  void apply(compactmind::LlamaModel&, const compactmind::Params&, compactmind::MethodContext&) override {}
};

}  // namespace

COMPACTMIND_PLUGIN(CannotConstruct, "throwing-factory", "1.0", CM_KIND_PRUNING,
                   "Test plugin: its factory throws", compactmind::SpaceBuilder())
