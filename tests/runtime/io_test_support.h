// Shared helpers of the model I/O tests: fixture paths, isolated temp folders, tensors by name.
#pragma once

#include "compactmind/llama_model.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <ostream>
#include <random>
#include <string>

namespace compactmind {

// For Catch2's messages (glog's stl_logging makes vectors of unprintable types fail to compile).
inline std::ostream& operator<<(std::ostream& out, const LayerShape& shape) {
  return out << "{heads " << shape.num_attention_heads << ", kv " << shape.num_key_value_heads << ", mlp "
             << shape.intermediate_size << "}";
}

}  // namespace compactmind

namespace compactmind::testing {

inline std::filesystem::path fixtures_dir() {
  if (const char* env = std::getenv("COMPACTMIND_FIXTURES")) return env;
  return COMPACTMIND_FIXTURES_DIR;
}

// A fresh folder under the system temp dir, removed when the test ends.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("cm-" + tag + "-" + std::to_string(random()) + "-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Every float tensor of `model` under its checkpoint name.
inline std::map<std::string, at::Tensor> model_tensors(const LlamaModel& model) {
  std::map<std::string, at::Tensor> tensors{{"model.embed_tokens.weight", model.embed_tokens},
                                            {"model.norm.weight", model.norm}};
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    tensors[prefix + "input_layernorm.weight"] = model.layers[i].input_layernorm;
    tensors[prefix + "post_attention_layernorm.weight"] = model.layers[i].post_attention_layernorm;
  }
  for (const auto& [name, linear] : model.named_linears()) tensors[name + ".weight"] = linear->dense_weight();
  return tensors;
}

}  // namespace compactmind::testing
