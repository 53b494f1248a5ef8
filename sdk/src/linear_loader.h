// The one place where a checkpoint's form of a linear layer becomes a Linear (internal to the SDK).
// A float `<module>.weight` unless config.json has a compressed-tensors `quantization_config` that
// does not ignore the module: then the registered linear format it names builds it (linear_format.h).
#pragma once

#include "compactmind/linear.h"
#include "compactmind/llama_config.h"
#include "compactmind/llama_model.h"
#include "compactmind/safetensors.h"

#include <memory>
#include <string>
#include <vector>

namespace compactmind::detail {

// Checks that `name` exists in `checkpoint` with shape `expected`; `why` says which config values
// imply that shape (for the message).
void check_tensor_shape(const SafetensorsReader& checkpoint, const std::string& name,
                        const std::vector<int64_t>& expected, const std::string& why);

// Builds the linear stored under `module_name` (e.g. "model.layers.3.self_attn.q_proj"), which must
// compute [out_features] from [in_features]. `config` carries config.json (its quantization_config).
std::unique_ptr<Linear> load_linear(const SafetensorsReader& checkpoint, const std::string& module_name,
                                    int64_t out_features, int64_t in_features, const std::string& why,
                                    const LlamaConfig& config, const LoadOptions& options);

}  // namespace compactmind::detail
