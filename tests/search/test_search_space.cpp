#include "compactmind/search/pipeline_space.h"
#include "compactmind/search/random_sampler.h"
#include "compactmind/search/search_space.h"
#include "test_helpers.h"

#include <catch2/catch.hpp>

#include <set>

using namespace compactmind;
using namespace compactmind::search;
using compactmind::search::testing::builtin_like_plugins;
using compactmind::search::testing::space_of;

namespace {

std::vector<std::string> names_of(const SearchSpace& space) {
  std::vector<std::string> names;
  for (const auto& dimension : space.dimensions()) names.push_back(dimension.name);
  return names;
}

}  // namespace

TEST_CASE("pipeline space lists modes, slots and each plugin's tunable parameters", "[search][pipeline_space]") {
  const PipelineSpace pipelines(builtin_like_plugins(), {true});
  const auto names = names_of(pipelines.space());
  CHECK(names == std::vector<std::string>{"mode", "single_method", "pruning_method", "retraining_method",
                                          "quantization_method", "llm_pruner.ratio", "llm_pruner.importance",
                                          "llm_pruner.taylor_samples", "smoothquant.alpha", "smoothquant.per_token",
                                          "lora_retrain.lr", "lora_retrain.steps"});
  const auto& space = pipelines.space();
  CHECK(space.find("mode")->spec.choices == std::vector<std::string>{"single", "hybrid"});
  CHECK(space.find("single_method")->spec.choices == std::vector<std::string>{"llm_pruner", "smoothquant"});
  // Fixed parameters and "other" plugins are not searched.
  CHECK(space.find("llm_pruner.layer_start") == nullptr);
  CHECK(space.find("lora_retrain.rank") == nullptr);

  // A single-mode pruning point: the retrainer's and quantizer's parameters are inactive.
  const nlohmann::json single = {{"mode", "single"}, {"single_method", "llm_pruner"}, {"llm_pruner.ratio", 0.3},
                                 {"llm_pruner.importance", "l1"}};
  CHECK_NOTHROW(space.validate(single));
  const auto steps = pipelines.to_pipeline(single);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0] == nlohmann::json{{"method", "llm_pruner"}, {"ratio", 0.3}, {"importance", "l1"}, {"layer_start", 1}});

  // Hybrid with retraining: prune → retrain → quantize, defaults filled in.
  const nlohmann::json hybrid = {{"mode", "hybrid"},
                                 {"pruning_method", "llm_pruner"},
                                 {"retraining_method", "lora_retrain"},
                                 {"quantization_method", "smoothquant"},
                                 {"llm_pruner.ratio", 0.1},
                                 {"llm_pruner.importance", "taylor"},
                                 {"llm_pruner.taylor_samples", 32},
                                 {"lora_retrain.lr", 0.001},
                                 {"lora_retrain.steps", 100},
                                 {"smoothquant.alpha", 0.8},
                                 {"smoothquant.per_token", false}};
  const auto hybrid_steps = pipelines.to_pipeline(hybrid);
  REQUIRE(hybrid_steps.size() == 3);
  CHECK(hybrid_steps[0]["method"] == "llm_pruner");
  CHECK(hybrid_steps[0]["taylor_samples"] == 32);
  CHECK(hybrid_steps[1] == nlohmann::json{{"method", "lora_retrain"}, {"lr", 0.001}, {"steps", 100}, {"rank", 8}});
  CHECK(hybrid_steps[2] == nlohmann::json{{"method", "smoothquant"}, {"alpha", 0.8}, {"per_token", false}});
  CHECK(describe_pipeline(hybrid_steps).find("llm_pruner(") == 0);

  // A conditional parameter given where it does not apply is refused.
  nlohmann::json wrong = single;
  wrong["llm_pruner.taylor_samples"] = 8;
  CHECK_THROWS_WITH(space.validate(wrong), Catch::Contains("llm_pruner.taylor_samples") && Catch::Contains("inactive"));
}

TEST_CASE("pipeline space without retraining has no retraining slot", "[search][pipeline_space]") {
  const PipelineSpace pipelines(builtin_like_plugins(), {false});
  CHECK(pipelines.space().find("retraining_method") == nullptr);
  CHECK(pipelines.space().find("lora_retrain.lr") == nullptr);
  const nlohmann::json hybrid = {{"mode", "hybrid"}, {"pruning_method", "llm_pruner"},
                                 {"quantization_method", "smoothquant"}, {"llm_pruner.ratio", 0.1},
                                 {"llm_pruner.importance", "l2"}, {"smoothquant.alpha", 0.8},
                                 {"smoothquant.per_token", true}};
  const auto steps = pipelines.to_pipeline(hybrid);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0]["method"] == "llm_pruner");
  CHECK(steps[1]["method"] == "smoothquant");
}

TEST_CASE("a plugin added to the list joins the space and gets sampled", "[search][pipeline_space]") {
  auto plugins = builtin_like_plugins();
  const PipelineSpace before(plugins, {true});
  plugins.push_back({"toy_quant", PluginKind::kQuantization, space_of(R"({"parameters": [
      {"name": "bits", "type": "int", "low": 2, "high": 8, "default": 4}]})")});
  const PipelineSpace after(plugins, {true});
  CHECK(before.space().fingerprint() != after.space().fingerprint());
  CHECK(after.space().find("single_method")->spec.choices ==
        std::vector<std::string>{"llm_pruner", "smoothquant", "toy_quant"});
  CHECK(after.space().find("quantization_method")->spec.choices ==
        std::vector<std::string>{"smoothquant", "toy_quant"});
  REQUIRE(after.space().find("toy_quant.bits") != nullptr);

  RandomSampler sampler(7);
  const std::vector<Trial> history;
  const std::vector<std::string> objectives{"ppl"};
  int single_uses = 0, hybrid_uses = 0;
  for (int number = 0; number < 200; ++number) {
    const auto point = *sampler.sample({after.space(), history, number, objectives});
    REQUIRE_NOTHROW(after.space().validate(point));
    const auto steps = after.to_pipeline(point);
    for (const auto& step : steps) {
      if (step["method"] != "toy_quant") continue;
      CHECK(step["bits"].get<int>() >= 2);
      CHECK(step["bits"].get<int>() <= 8);
      (steps.size() == 1 ? single_uses : hybrid_uses)++;
    }
  }
  CHECK(single_uses > 10);
  CHECK(hybrid_uses > 10);
}

TEST_CASE("pipeline space refuses impossible plugin sets", "[search][pipeline_space]") {
  auto plugins = builtin_like_plugins();
  plugins.erase(plugins.begin() + 2);  // no retraining plugin
  CHECK_THROWS_WITH(PipelineSpace(plugins, {true}), Catch::Contains("no retraining plugin"));
  const PipelineSpace single_only({plugins[1]}, {false});
  CHECK(single_only.space().find("mode")->spec.choices == std::vector<std::string>{"single"});
  CHECK(single_only.space().find("pruning_method") == nullptr);
  CHECK_THROWS_WITH(PipelineSpace({plugins.back()}, {false}), Catch::Contains("no pruning or quantization plugin"));
  CHECK_THROWS_WITH(PipelineSpace({plugins[0], plugins[0]}, {false}), Catch::Contains("two plugins are named 'llm_pruner'"));
}

TEST_CASE("hand-written pipelines are validated against the declared spaces", "[search][pipeline_space]") {
  const auto plugins = builtin_like_plugins();
  const auto resolved = resolve_pipeline(nlohmann::json::parse(R"([
      {"method": "llm_pruner", "ratio": 0.25},
      {"method": "smoothquant", "alpha": 0.85}])"), plugins);
  CHECK(resolved[0] == nlohmann::json{{"method", "llm_pruner"}, {"ratio", 0.25}, {"importance", "l2"}, {"layer_start", 1}});
  CHECK(resolved[1]["per_token"] == true);
  CHECK_THROWS_WITH(resolve_pipeline(nlohmann::json::parse(R"([{"method": "gptq"}])"), plugins),
                    Catch::Contains("pipeline step 1: unknown method 'gptq'") && Catch::Contains("llm_pruner"));
  CHECK_THROWS_WITH(resolve_pipeline(nlohmann::json::parse(R"([{"method": "smoothquant"}, {"method": "llm_pruner", "ratio": 0.9}])"), plugins),
                    Catch::Contains("pipeline step 2 ('llm_pruner')") && Catch::Contains("ratio") && Catch::Contains("outside"));
  CHECK_THROWS_WITH(resolve_pipeline(nlohmann::json::parse(R"([{"method": "smoothquant", "beta": 1}])"), plugins),
                    Catch::Contains("unknown parameter 'beta'"));
  CHECK_THROWS_WITH(resolve_pipeline(nlohmann::json::array(), plugins), Catch::Contains("non-empty JSON array"));
}

TEST_CASE("search space checks its conditions and fingerprints its content", "[search][space]") {
  SearchSpace space;
  ParameterSpec flag;
  flag.type = ParameterType::kBool;
  flag.default_value = false;
  CHECK_THROWS_WITH(space.add({"x", flag, {{{"missing", true}}}}), Catch::Contains("'missing'"));
  space.add({"flag", flag, {}});
  CHECK_THROWS_WITH(space.add({"flag", flag, {}}), Catch::Contains("declared twice"));
  const std::string before = space.fingerprint();
  CHECK(before.size() == 16);
  SearchSpace same;
  same.add({"flag", flag, {}});
  CHECK(same.fingerprint() == before);
  space.add({"other", flag, {{{"flag", true}}}});
  CHECK(space.fingerprint() != before);
  CHECK(SearchSpace::is_active(*space.find("other"), {{"flag", true}}));
  CHECK_FALSE(SearchSpace::is_active(*space.find("other"), {{"flag", false}}));
}
