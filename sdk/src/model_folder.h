// What a saved model folder holds besides the weights (internal to the SDK; shared by
// LlamaModel::save and the random-model writer).
#pragma once

#include "compactmind/llama_config.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <string>

namespace compactmind::detail {

// "float32" | "float16" | "bfloat16"; throws for other dtypes.
std::string dtype_config_name(at::ScalarType dtype);

// Writes `config.json`, copies the tokenizer files and generation_config.json from `source_dir`
// (when set and present), and writes a generation_config.json from the config when none was copied.
void write_model_companions(const std::filesystem::path& dir, const LlamaConfig& config,
                            const std::filesystem::path& source_dir);

}  // namespace compactmind::detail
