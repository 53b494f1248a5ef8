// Pipelines are validated against the plugins' declared spaces before anything runs: each error names
// the step, the method and the parameter (exact messages). Uses the real built plugins.
#include "compactmind/host/pipeline.h"
#include "pipeline_test_helpers.h"

#include <catch2/catch.hpp>

#include <fstream>

using compactmind::host::PluginRegistry;
using compactmind::host::read_pipeline_json;
using compactmind::host::resolve_pipeline;
namespace fs = std::filesystem;

namespace {

// Exactly these two plugins, in this order, so that "registered: ..." lists are predictable.
const PluginRegistry& two_plugins() {
  static const PluginRegistry registry = [] {
    PluginRegistry built;
    for (const char* name : {"llm-pruner", "smoothquant"}) {
      const fs::path file = fs::path(COMPACTMIND_BUILD_PLUGIN_DIR) / ("libcm-" + std::string(name) + ".so");
      if (built.add_file(file) == nullptr) FAIL("cannot load " << file << ": " << built.rejections().back().message);
    }
    return built;
  }();
  return registry;
}

std::string error_of(const std::string& pipeline_text) {
  try {
    resolve_pipeline(nlohmann::json::parse(pipeline_text), two_plugins());
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a valid pipeline resolves with every default filled in", "[pipeline]") {
  const auto pipeline = resolve_pipeline(
      nlohmann::json::parse(R"([{"method": "llm-pruner", "ratio": 0.2}, {"method": "smoothquant"}])"), two_plugins());
  REQUIRE(pipeline.steps.size() == 2);
  CHECK(pipeline.steps[0].method == "llm-pruner");
  CHECK(pipeline.steps[0].params.at("ratio") == 0.2);
  CHECK(pipeline.steps[0].params.at("importance") == "taylor");  // the declared default
  CHECK_FALSE(pipeline.steps[0].params.contains("seed"));       // applies only when importance = random
  CHECK(pipeline.steps[1].params.at("alpha") == 0.5);
  CHECK(pipeline.steps[1].params.at("act_quant") == "per_token");
  CHECK(pipeline.to_json()[1].at("method") == "smoothquant");
}

TEST_CASE("a step that cannot follow a quantization step is refused before anything runs", "[pipeline]") {
  CHECK(error_of(R"([{"method": "smoothquant"}, {"method": "llm-pruner"}])") ==
        "pipeline step 2 ('llm-pruner'), a pruning method, cannot follow step 1 ('smoothquant', quantization): "
        "after quantization the linears hold no dense float weights to change; put pruning and retraining first "
        "and quantize once, last");
  CHECK(error_of(R"([{"method": "llm-pruner"}, {"method": "smoothquant"}, {"method": "smoothquant"}])") ==
        "pipeline step 3 ('smoothquant'), a quantization method, cannot follow step 2 ('smoothquant', "
        "quantization): after quantization the linears hold no dense float weights to change; put pruning and "
        "retraining first and quantize once, last");
}

TEST_CASE("an unknown method names the step and lists the registered ones", "[pipeline]") {
  CHECK(error_of(R"([{"method": "llm-pruner"}, {"method": "smoothqant"}])") ==
        "pipeline step 2: unknown method 'smoothqant' (registered: llm-pruner, smoothquant)");
}

TEST_CASE("an unknown parameter names the step, the method and the declared ones", "[pipeline]") {
  CHECK(error_of(R"([{"method": "smoothquant", "beta": 0.5}])") ==
        "pipeline step 1 ('smoothquant'): unknown parameter 'beta' (declared: smooth, alpha, act_quant, "
        "weight_quant, quantize_bmm_input)");
}

TEST_CASE("a value out of bounds names the step, the method, the parameter and the bounds", "[pipeline]") {
  CHECK(error_of(R"([{"method": "llm-pruner", "ratio": 0.9}])") ==
        "pipeline step 1 ('llm-pruner'): parameter 'ratio': 0.9 is outside [0.0, 0.6]");
  CHECK(error_of(R"([{"method": "llm-pruner", "importance": "l3"}])") ==
        "pipeline step 1 ('llm-pruner'): parameter 'importance': 'l3' is not one of {l2, l1, taylor, random}");
}

TEST_CASE("a value of the wrong type names the step, the method and the parameter", "[pipeline]") {
  CHECK(error_of(R"([{"method": "smoothquant", "alpha": "high"}])") ==
        "pipeline step 1 ('smoothquant'): parameter 'alpha': expects a number, got \"high\"");
  CHECK(error_of(R"([{"method": "smoothquant", "smooth": 1}])") ==
        "pipeline step 1 ('smoothquant'): parameter 'smooth': expects true or false, got 1");
  CHECK(error_of(R"([{"method": "llm-pruner", "seed": 3}])") ==
        "pipeline step 1 ('llm-pruner'): parameter 'seed': given, but it applies only when 'importance' is \"random\"");
}

TEST_CASE("malformed pipelines are refused with the expected form", "[pipeline]") {
  CHECK(error_of("[]") == "pipeline: expected a non-empty JSON array of steps {\"method\": NAME, ...}");
  CHECK(error_of(R"([{"ratio": 0.2}])") == "pipeline step 1: needs a string \"method\"");
}

TEST_CASE("a pipeline is read inline or from a file, and bad JSON names its source", "[pipeline]") {
  CHECK(read_pipeline_json(R"(  [{"method": "smoothquant"}])")[0].at("method") == "smoothquant");
  const fs::path dir = compactmind::test::fresh_temp_dir("read");
  const fs::path file = dir / "p.json";
  std::ofstream(file) << R"({"description": "x", "steps": [{"method": "llm-pruner"}]})";
  CHECK(resolve_pipeline(read_pipeline_json(file.string()), two_plugins()).steps.at(0).method == "llm-pruner");
  std::ofstream(file) << "[{\"method\": }";
  CHECK_THROWS_WITH(read_pipeline_json(file.string()),
                    Catch::StartsWith("pipeline file '" + file.string() + "' is not valid JSON: "));
  CHECK_THROWS_WITH(read_pipeline_json((dir / "missing.json").string()),
                    "pipeline file '" + (dir / "missing.json").string() +
                        "' cannot be read (not a file, and not inline JSON starting with '[' or '{')");
  fs::remove_all(dir);
}

TEST_CASE("every starter pipeline in configs/ validates against the built-in plugins", "[pipeline]") {
  const PluginRegistry registry = PluginRegistry::discover(
      {{fs::path(COMPACTMIND_BUILD_PLUGIN_DIR)}, /*use_environment=*/false, /*use_default_dirs=*/false});
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(COMPACTMIND_SOURCE_DIR) / "configs")) {
    // search-*.json are --space files for `compactmind search` (test_space_overrides.cpp), not pipelines.
    if (entry.path().extension() != ".json" || entry.path().filename().string().rfind("search-", 0) == 0) continue;
    INFO(entry.path());
    CHECK_NOTHROW(resolve_pipeline(read_pipeline_json(entry.path().string()), registry));
    ++checked;
  }
  CHECK(checked >= 4);
}
