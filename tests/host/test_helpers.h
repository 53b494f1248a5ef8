// Shared by the host tests: copying built test plugins, and a tiny hand-made model for apply (no
// checkpoint needed). Temp folders and running commands: tests/support.
#pragma once

#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_model.h"

#include <filesystem>
#include <string>
#include <vector>

namespace compactmind::test {

// Copies `file` into `dir`, keeping its name; returns the copy's path.
std::filesystem::path copy_into(const std::filesystem::path& file, const std::filesystem::path& dir);

// A Linear holding float weights, written here so the tests need nothing of the model runtime.
class TestLinear final : public Linear {
 public:
  explicit TestLinear(at::Tensor weight_in) : weight(std::move(weight_in)) {}
  at::Tensor weight;
  at::Tensor forward(const at::Tensor& input) const override { return at::matmul(input, weight.t()); }
  int64_t in_features() const override { return weight.size(1); }
  int64_t out_features() const override { return weight.size(0); }
  std::vector<std::pair<std::string, at::Tensor>> state() const override { return {{"weight", weight}}; }
  int64_t stored_bytes(at::ScalarType float_dtype) const override {
    return weight.numel() * static_cast<int64_t>(c10::elementSize(float_dtype));
  }
  std::unique_ptr<Linear> clone() const override { return std::make_unique<TestLinear>(weight.clone()); }
  std::string kind() const override { return "dense"; }
  at::Tensor dense_weight() const override { return weight; }
};

// One decoder layer of hidden size 8, MLP 16, random weights (seeded); final norm of ones.
LlamaModel tiny_model();

}  // namespace compactmind::test
