// The built llm-pruner plugin, loaded and applied through the host's registry exactly as the pipeline
// executor does: its declared space, a real pruning, and errors arriving through the C ABI.
#include "llm_pruner_test_support.h"

#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include <catch2/catch.hpp>

using namespace compactmind;
using namespace llm_pruner_test;

namespace {

host::PluginRegistry build_tree_registry() {
  return host::PluginRegistry::discover(host::DiscoveryOptions::only({COMPACTMIND_BUILD_PLUGIN_DIR}));
}

MethodContext calibrated_context() {
  MethodContext context;
  context.set_calibration_windows([] {
    const Tokenizer tokenizer = Tokenizer::load(model_dir("tiny-llama2"));
    const TokenStream stream =
        tokenize_file(tokenizer, wikitext("valid.txt"));
    return cut_windows(stream.ids, 64, 2);
  });
  return context;
}

}  // namespace

TEST_CASE("llm-pruner plugin declares its space", "[llm-pruner][plugin]") {
  const host::PluginRegistry registry = build_tree_registry();
  const host::PluginInfo& plugin = registry.get("llm-pruner");
  CHECK(plugin.kind == compactmind::PluginKind::kPruning);
  const ParameterSpec* ratio = plugin.space.find("ratio");
  REQUIRE(ratio != nullptr);
  CHECK(ratio->low == 0.0);
  CHECK(ratio->high == 0.6);
  CHECK(plugin.space.find("importance")->choices ==
        std::vector<std::string>{"l2", "l1", "taylor", "random"});
  CHECK(plugin.space.find("target")->choices == std::vector<std::string>{"attention", "mlp", "both"});
  CHECK(plugin.space.find("aggregation")->choices == std::vector<std::string>{"sum", "mean", "max"});
  CHECK_FALSE(plugin.space.find("layer_start")->tunable);
  CHECK_FALSE(plugin.space.find("layer_end")->tunable);
  CHECK(plugin.space.find("layer_start")->default_value == -1);
  const ParameterSpec* seed = plugin.space.find("seed");
  CHECK_FALSE(seed->tunable);
  REQUIRE(seed->condition.has_value());
  CHECK(seed->condition->parameter == "importance");
  CHECK(seed->condition->equals == "random");
}

TEST_CASE("llm-pruner plugin prunes tiny-llama2 by ~20% with taylor importance", "[llm-pruner][plugin]") {
  set_threads(2);
  const host::PluginRegistry registry = build_tree_registry();
  LlamaModel model = LlamaModel::load(model_dir("tiny-llama2"));
  const int64_t before = model.parameter_count();
  MethodContext context = calibrated_context();
  registry.apply("llm-pruner", model, {{"ratio", 0.43}, {"importance", "taylor"}}, context);
  // Automatic range [1, 5): round(0.43 · 8) = 3 heads and round(0.43 · 768) = 330 channels per layer.
  for (int64_t layer = 1; layer < 5; ++layer) {
    CHECK(model.layers[layer].shape.num_attention_heads == 5);
    CHECK(model.layers[layer].shape.intermediate_size == 438);
  }
  CHECK(model.layers[0].shape.num_attention_heads == 8);
  CHECK(model.layers[5].shape.intermediate_size == 768);
  const int64_t removed = before - model.parameter_count();
  CHECK(removed == 4 * (3 * 4 * 32 * 256 + 330 * 3 * 256));
  CHECK(static_cast<double>(removed) / static_cast<double>(before) == Approx(0.195).margin(0.005));
  const at::Tensor logits = model.forward(sample_ids(model.config.vocab_size, 1, 32, 4));
  CHECK(at::isfinite(logits).all().item<bool>());
}

TEST_CASE("llm-pruner plugin errors name the parameter and the model's depth", "[llm-pruner][plugin]") {
  set_threads(2);
  const host::PluginRegistry registry = build_tree_registry();
  LlamaModel model = LlamaModel::load(model_dir("tiny-llama2"));
  MethodContext context;  // no calibration data
  CHECK_THROWS_WITH(registry.apply("llm-pruner", model, {{"ratio", 0.7}}, context),
                    Catch::Contains("llm-pruner") && Catch::Contains("ratio"));
  CHECK_THROWS_WITH(
      registry.apply("llm-pruner", model, {{"importance", "l2"}, {"layer_end", 9}}, context),
      Catch::Contains("layer_end=9") && Catch::Contains("6 decoder layers"));
  CHECK_THROWS_WITH(registry.apply("llm-pruner", model, {{"importance", "taylor"}}, context),
                    Catch::Contains("importance=taylor needs calibration data"));
  for (const DecoderLayer& layer : model.layers) CHECK(layer.shape.num_attention_heads == 8);
}
