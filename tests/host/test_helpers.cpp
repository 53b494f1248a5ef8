#include "test_helpers.h"

#include <cstdlib>
#include <stdexcept>


namespace compactmind::test {
namespace fs = std::filesystem;

fs::path copy_into(const fs::path& file, const fs::path& dir) {
  const fs::path target = dir / file.filename();
  fs::copy_file(file, target, fs::copy_options::overwrite_existing);
  return target;
}

LlamaModel tiny_model() {
  at::manual_seed(7);
  LlamaModel model;
  constexpr int64_t kHidden = 8, kMlp = 16;
  DecoderLayer layer;
  layer.q_proj = std::make_unique<TestLinear>(at::randn({kHidden, kHidden}));
  layer.k_proj = std::make_unique<TestLinear>(at::randn({kHidden, kHidden}));
  layer.v_proj = std::make_unique<TestLinear>(at::randn({kHidden, kHidden}));
  layer.o_proj = std::make_unique<TestLinear>(at::randn({kHidden, kHidden}));
  layer.gate_proj = std::make_unique<TestLinear>(at::randn({kMlp, kHidden}));
  layer.up_proj = std::make_unique<TestLinear>(at::randn({kMlp, kHidden}));
  layer.down_proj = std::make_unique<TestLinear>(at::randn({kHidden, kMlp}));
  layer.input_layernorm = at::ones({kHidden});
  layer.post_attention_layernorm = at::ones({kHidden});
  model.layers.push_back(std::move(layer));
  model.norm = at::ones({kHidden});
  return model;
}

}  // namespace compactmind::test
