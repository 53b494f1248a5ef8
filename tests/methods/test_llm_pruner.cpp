// llm-pruner on the fixture models, through its C++ entry point (prune_model): physical removal is
// equivalent to zeroing the same groups, the removed parameter count is exactly what the groups
// couple, taylor uses real gradients, pruned models save and reload, and bad input is refused.
#include "llm_pruner.h"
#include "llm_pruner_test_support.h"

#include "compactmind/llama_model.h"
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

using namespace compactmind;
using namespace compactmind::llm_pruner;
using namespace llm_pruner_test;

namespace {

struct Pruned {
  LlamaModel original;
  LlamaModel pruned;
  PruneReport report;
};

Pruned prune_copy(const std::string& fixture, const PruneSettings& settings,
                  const at::Tensor& windows = at::Tensor()) {
  set_threads(2);
  Pruned result{LlamaModel::load(model_dir(fixture)), LlamaModel(), PruneReport()};
  result.pruned = result.original.clone();
  result.report = prune_model(result.pruned, settings, windows);
  return result;
}

// Physically pruned logits against the unpruned model with the same groups zeroed.
void check_equivalence(Pruned& pruned) {
  LlamaModel zeroed = pruned.original.clone();
  zero_removed_groups(zeroed, pruned.report);
  const at::Tensor ids = sample_ids(pruned.original.config.vocab_size, 2, 40, 11);
  const at::Tensor expected = zeroed.forward(ids);
  const at::Tensor actual = pruned.pruned.forward(ids);
  REQUIRE(actual.sizes() == expected.sizes());
  CHECK(max_abs_diff(actual, expected) <= 1e-5);
  // And the pruning really changed the function (else the equivalence would prove nothing).
  CHECK(max_abs_diff(actual, pruned.original.forward(ids)) > 1e-3);
}

at::Tensor calibration_windows(const std::string& fixture, int64_t count, int64_t length) {
  const Tokenizer tokenizer = Tokenizer::load(model_dir(fixture));
  const TokenStream stream = tokenize_file(tokenizer, wikitext("valid.txt"));
  return cut_windows(stream.ids, length, count);
}

}  // namespace

TEST_CASE("llm-pruner MHA tiny-llama2: removal equals zeroing the same heads and channels", "[llm-pruner][model]") {
  PruneSettings settings;
  settings.criterion = Criterion::kL2;
  settings.ratio = 0.3;
  Pruned pruned = prune_copy("tiny-llama2", settings);
  REQUIRE(pruned.report.range.start == 1);  // automatic: first and last of 6 layers kept
  REQUIRE(pruned.report.range.end == 5);
  REQUIRE(pruned.report.layers.size() == 4);
  for (const LayerPruning& layer : pruned.report.layers) {
    CHECK(layer.removed_groups.size() == 2);      // round(0.3 · 8 heads) = round(2.4)
    CHECK(layer.removed_channels.size() == 230);  // round(0.3 · 768) = round(230.4)
    const DecoderLayer& decoder = pruned.pruned.layers[layer.layer];
    CHECK(decoder.shape.num_attention_heads == 6);
    CHECK(decoder.shape.num_key_value_heads == 6);
    CHECK(decoder.shape.intermediate_size == 538);
    CHECK(decoder.q_proj->out_features() == 6 * 32);
    CHECK(decoder.o_proj->in_features() == 6 * 32);
    CHECK(decoder.down_proj->in_features() == 538);
    CHECK(pruned.pruned.config.layers[layer.layer] == decoder.shape);
  }
  // Layers outside the range are untouched.
  CHECK(pruned.pruned.layers[0].shape == pruned.original.layers[0].shape);
  CHECK(pruned.pruned.layers[5].shape == pruned.original.layers[5].shape);
  check_equivalence(pruned);
}

TEST_CASE("llm-pruner GQA tiny-gqa: a key/value group and its query heads go together", "[llm-pruner][model]") {
  PruneSettings settings;
  settings.criterion = Criterion::kL1;
  settings.ratio = 0.5;
  settings.layer_start = 0;
  settings.layer_end = 4;
  Pruned pruned = prune_copy("tiny-gqa", settings);
  REQUIRE(pruned.report.layers.size() == 4);
  for (const LayerPruning& layer : pruned.report.layers) {
    CHECK(layer.removed_groups.size() == 1);  // round(0.5 · 2 kv groups)
    const DecoderLayer& decoder = pruned.pruned.layers[layer.layer];
    CHECK(decoder.shape.num_key_value_heads == 1);
    CHECK(decoder.shape.num_attention_heads == 4);  // 4 query heads per kv head go with it
    CHECK(decoder.k_proj->out_features() == 32);
    CHECK(decoder.q_proj->out_features() == 4 * 32);
    CHECK(decoder.shape.intermediate_size == 384);
  }
  check_equivalence(pruned);
}

TEST_CASE("llm-pruner removed parameter count is exactly what the groups couple", "[llm-pruner][model]") {
  PruneSettings settings;
  settings.criterion = Criterion::kRandom;
  settings.seed = 3;
  settings.ratio = 0.3;
  SECTION("MHA, both targets") {
    Pruned pruned = prune_copy("tiny-llama2", settings);
    // Per layer: 2 heads × (q, k, v rows + o columns) = 2 · 4 · 32 · 256; 230 channels × 3 · 256.
    const int64_t expected = 4 * (2 * 4 * 32 * 256 + 230 * 3 * 256);
    CHECK(pruned.report.removed_parameters() == expected);
    CHECK(pruned.original.parameter_count() - pruned.pruned.parameter_count() == expected);
  }
  SECTION("GQA, attention only") {
    settings.target = Target::kAttention;
    settings.ratio = 0.5;
    Pruned pruned = prune_copy("tiny-gqa", settings);  // automatic range [1, 3)
    // One kv group per layer: q and o 4 heads · 32 · 256 each, k and v 32 · 256 each.
    const int64_t expected = 2 * (2 * 4 * 32 * 256 + 2 * 32 * 256);
    CHECK(pruned.report.removed_parameters() == expected);
    CHECK(pruned.original.parameter_count() - pruned.pruned.parameter_count() == expected);
    for (const LayerPruning& layer : pruned.report.layers) CHECK(layer.removed_channels.empty());
  }
}

TEST_CASE("llm-pruner random importance follows its seed", "[llm-pruner][model]") {
  PruneSettings settings;
  settings.criterion = Criterion::kRandom;
  settings.target = Target::kMlp;
  settings.seed = 5;
  const PruneReport first = prune_copy("tiny-llama2", settings).report;
  const PruneReport again = prune_copy("tiny-llama2", settings).report;
  settings.seed = 6;
  const PruneReport other = prune_copy("tiny-llama2", settings).report;
  CHECK(first.layers[0].removed_channels == again.layers[0].removed_channels);
  CHECK(first.layers[0].removed_channels != other.layers[0].removed_channels);
}

TEST_CASE("llm-pruner taylor uses calibration gradients and leaves no autograd state", "[llm-pruner][model]") {
  PruneSettings settings;
  settings.criterion = Criterion::kTaylor;
  settings.ratio = 0.25;
  Pruned pruned = prune_copy("tiny-llama2", settings, calibration_windows("tiny-llama2", 2, 64));
  check_equivalence(pruned);
  for (const auto& [name, linear] : pruned.pruned.named_linears()) {
    const DenseLinear& weight = as_dense(*linear, name);
    CHECK_FALSE(weight.weight.requires_grad());
    CHECK_FALSE(weight.weight.grad().defined());
  }
  // Gradients, not magnitudes, decide: the taylor choice differs from l1's on the same model.
  settings.criterion = Criterion::kL1;
  const PruneReport l1 = prune_copy("tiny-llama2", settings).report;
  bool differs = false;
  for (size_t i = 0; i < l1.layers.size(); ++i) {
    differs = differs || l1.layers[i].removed_channels != pruned.report.layers[i].removed_channels;
  }
  CHECK(differs);
}

TEST_CASE("llm-pruner pruned model saves and reloads to identical logits", "[llm-pruner][model]") {
  // Each fixture is saved in its own storage dtype (tiny-llama2 float16, the default; tiny-gqa
  // bfloat16): slicing keeps the values, so the round trip is exact.
  const std::string fixture = GENERATE(std::string("tiny-llama2"), std::string("tiny-gqa"));
  PruneSettings settings;
  settings.criterion = Criterion::kL2;
  settings.ratio = 0.4;
  Pruned pruned = prune_copy(fixture, settings);
  TempDir temp("reload");
  const auto saved_dir = temp.path() / "pruned";
  SaveOptions save_options;
  save_options.float_dtype = fixture == "tiny-gqa" ? at::kBFloat16 : at::kHalf;
  pruned.pruned.save(saved_dir, save_options);
  const LlamaModel reloaded = LlamaModel::load(saved_dir);
  REQUIRE(reloaded.layers.size() == pruned.pruned.layers.size());
  for (size_t i = 0; i < reloaded.layers.size(); ++i) {
    CHECK(reloaded.layers[i].shape == pruned.pruned.layers[i].shape);
  }
  CHECK_FALSE(reloaded.config.is_uniform());
  CHECK(reloaded.parameter_count() == pruned.pruned.parameter_count());
  const at::Tensor ids = sample_ids(reloaded.config.vocab_size, 1, 48, 21);
  CHECK(max_abs_diff(reloaded.forward(ids), pruned.pruned.forward(ids)) == 0.0);
}

namespace {

// Stands for any non-dense linear representation (a quantized one): forward works, no float weight.
class OpaqueLinear final : public Linear {
 public:
  explicit OpaqueLinear(at::Tensor weight) : weight_(std::move(weight)) {}
  at::Tensor forward(const at::Tensor& input) const override { return at::matmul(input, weight_.t()); }
  int64_t in_features() const override { return weight_.size(1); }
  int64_t out_features() const override { return weight_.size(0); }
  std::vector<std::pair<std::string, at::Tensor>> state() const override { return {{"weight", weight_}}; }
  int64_t stored_bytes(at::ScalarType) const override { return weight_.numel(); }
  std::unique_ptr<Linear> clone() const override { return std::make_unique<OpaqueLinear>(weight_.clone()); }
  std::string kind() const override { return "opaque-int8"; }
  at::Tensor dense_weight() const override { return weight_; }

 private:
  at::Tensor weight_;
};

}  // namespace

TEST_CASE("llm-pruner refuses bad input and leaves the model untouched", "[llm-pruner][model]") {
  set_threads(2);
  LlamaModel model = LlamaModel::load(model_dir("tiny-llama2"));
  const int64_t parameters = model.parameter_count();
  PruneSettings settings;
  settings.criterion = Criterion::kL2;

  settings.ratio = 0.65;
  CHECK_THROWS_WITH(prune_model(model, settings, at::Tensor()),
                    Catch::Contains("ratio=0.65") && Catch::Contains("[0, 0.6]"));
  settings.ratio = 0.2;
  settings.layer_end = 9;
  CHECK_THROWS_WITH(prune_model(model, settings, at::Tensor()),
                    Catch::Contains("layer_end=9") && Catch::Contains("6 decoder layers"));
  settings.layer_end = kAutoLayer;
  settings.criterion = Criterion::kTaylor;
  CHECK_THROWS_WITH(prune_model(model, settings, at::Tensor()),
                    Catch::Contains("importance=taylor needs calibration data"));

  settings.criterion = Criterion::kL2;
  model.layers[2].q_proj = std::make_unique<OpaqueLinear>(dense(*model.layers[2].q_proj).weight.clone());
  CHECK_THROWS_WITH(prune_model(model, settings, at::Tensor()),
                    Catch::Contains("model.layers.2.self_attn.q_proj is a 'opaque-int8' linear") &&
                        Catch::Contains("prune before quantizing"));
  CHECK(model.parameter_count() == parameters);  // validation happens before any slicing
  for (const DecoderLayer& layer : model.layers) CHECK(layer.shape.num_attention_heads == 8);
  // MLP-only pruning does not touch the quantized attention and goes through.
  settings.target = Target::kMlp;
  CHECK_NOTHROW(prune_model(model, settings, at::Tensor()));
  CHECK(model.layers[2].shape.intermediate_size == 768 - 154);  // round(0.2 · 768) = round(153.6)
}

TEST_CASE("llm-pruner ratio 0 is the identity", "[llm-pruner][model]") {
  PruneSettings settings;
  settings.criterion = Criterion::kL2;
  settings.ratio = 0.0;
  Pruned pruned = prune_copy("tiny-llama2", settings);
  CHECK(pruned.report.removed_parameters() == 0);
  const at::Tensor ids = sample_ids(pruned.original.config.vocab_size, 1, 16, 2);
  CHECK(max_abs_diff(pruned.pruned.forward(ids), pruned.original.forward(ids)) == 0.0);
}
