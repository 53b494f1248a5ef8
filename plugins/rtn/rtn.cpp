// Round-to-nearest weight-only quantization: every decoder linear's weights rounded per group with
// GPTQ's min-max quantizer (int_quantizer.h), no error feedback — the baseline of GPTQ and AWQ.
// Stored as compressed-tensors pack-quantized; executed packed (PackedLinear). README.md has the
// parameters and figures.
#include "compactmind/log.h"
#include "compactmind/method.h"
#include "compactmind/packed_linear.h"

#include <sstream>
#include <stdexcept>

namespace compactmind::rtn {
namespace {

// bits, group_size, symmetric: the shared packed-scheme parameters (packed_linear.h).
SpaceBuilder declared_space() {
  SpaceBuilder space;
  declare_packed_scheme(space);
  return space;
}

class RoundToNearest final : public Method {
 public:
  void apply(LlamaModel& model, const Params& params, MethodContext&) override {
    const PackedScheme scheme = packed_scheme_from(params, "rtn");
    auto slots = model.named_linear_slots();
    // Every layer checked before any is changed: a refused model is left as it was.
    for (auto& [name, slot] : slots) {
      if (name == "lm_head") continue;
      const DenseLinear& dense = as_dense(**slot, "rtn: " + name);
      scheme.groups(dense.in_features(), "rtn: " + name);
    }
    int64_t converted = 0;
    for (auto& [name, slot] : slots) {
      if (name == "lm_head") continue;  // kept in float, as GPTQ's and AWQ's references do
      *slot = PackedLinear::quantize_rtn(as_dense(**slot, "rtn: " + name).weight, scheme);
      ++converted;
    }
    model.config.source["quantization_config"] =
        pack_quantized_config(scheme, nullptr, "rtn", {{"method", "rtn"}});
    std::ostringstream summary;
    summary << "rtn: W" << scheme.bits << "A16, group size " << scheme.group_size << ", "
            << (scheme.symmetric ? "symmetric" : "asymmetric") << " (" << converted << " linears)";
    log_info(summary.str());
  }
};

}  // namespace
}  // namespace compactmind::rtn

COMPACTMIND_PLUGIN(compactmind::rtn::RoundToNearest, "rtn", "1.0.0", CM_KIND_QUANTIZATION,
                   "Round-to-nearest weight-only int quantization (W2/3/4/8A16, per group), packed; the baseline of GPTQ",
                   compactmind::rtn::declared_space())
