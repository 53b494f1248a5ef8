// `--space` narrows the declared spaces for one search: ranges, choices, fixed values, plugins left
// out; anything that would widen a space or name something undeclared is refused with its key.
#include "compactmind/host/pipeline.h"
#include "compactmind/host/space_overrides.h"
#include "compactmind/search/pipeline_space.h"

#include <catch2/catch.hpp>

using compactmind::ParameterSpec;
using compactmind::host::apply_space_overrides;
namespace fs = std::filesystem;
namespace search = compactmind::search;

namespace {

std::vector<search::PluginEntry> builtin_entries() {
  static const compactmind::host::PluginRegistry registry = compactmind::host::PluginRegistry::discover(
      {{fs::path(COMPACTMIND_BUILD_PLUGIN_DIR)}, /*use_environment=*/false, /*use_default_dirs=*/false});
  return compactmind::host::plugin_entries(registry);
}

const ParameterSpec& spec_of(const std::vector<search::PluginEntry>& plugins, const std::string& plugin,
                                     const std::string& parameter) {
  for (const auto& entry : plugins)
    if (entry.name == plugin) return *entry.space.find(parameter);
  FAIL("no plugin " << plugin);
  throw;
}

std::string error_of(const std::string& overrides) {
  auto plugins = builtin_entries();
  try {
    apply_space_overrides(plugins, nlohmann::json::parse(overrides));
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("space overrides narrow ranges and choices, fix values and leave plugins out", "[space]") {
  auto plugins = builtin_entries();
  apply_space_overrides(plugins, nlohmann::json::parse(R"({
      "finetune.steps": {"low": 10, "high": 30},
      "llm-pruner.importance": {"choices": ["l2", "l1"]},
      "finetune.mode": "full",
      "distill": false})"));
  const auto& steps = spec_of(plugins, "finetune", "steps");
  CHECK(steps.low == 10);
  CHECK(steps.high == 30);
  CHECK(steps.default_value == 30);  // the declared default 100, clamped into the new range
  const auto& importance = spec_of(plugins, "llm-pruner", "importance");
  CHECK(importance.choices == std::vector<std::string>{"l2", "l1"});
  CHECK(importance.default_value == "l2");  // the declared default (taylor) is no longer a choice
  const auto& mode = spec_of(plugins, "finetune", "mode");
  CHECK_FALSE(mode.tunable);
  CHECK(mode.default_value == "full");
  for (const auto& entry : plugins) CHECK(entry.name != "distill");

  // The narrowed space is what the search samples: no LoRA dimensions (mode is fixed to full), no
  // distill slot, steps within [10, 30].
  const search::PipelineSpace space(plugins, {/*retrain=*/true});
  CHECK(space.space().find("finetune.lora_rank") == nullptr);
  CHECK(space.space().find("distill.lr") == nullptr);
  CHECK(space.space().find("finetune.steps")->spec.high == 30);
}

TEST_CASE("space overrides refuse what is not a narrowing of a declared space", "[space]") {
  CHECK_THAT(error_of(R"({"finetun.steps": 3})"), Catch::StartsWith("--space: 'finetun.steps': no plugin named 'finetun' (loaded: "));
  CHECK_THAT(error_of(R"({"finetune.stepz": 3})"),
             Catch::StartsWith("--space: 'finetune.stepz': plugin 'finetune' declares no parameter 'stepz' (declared: lr, steps"));
  CHECK(error_of(R"({"llm-pruner.ratio": {"high": 0.9}})") ==
        "--space: 'llm-pruner.ratio': [0.0, 0.9] is not a range inside the declared [0.0, 0.6]");
  CHECK(error_of(R"({"llm-pruner.importance": {"choices": ["l2", "l7"]}})") ==
        "--space: 'llm-pruner.importance': \"l7\" is not one of its declared choices");
  CHECK(error_of(R"({"smoothquant.alpha": 1.5})") == "--space: 'smoothquant.alpha': 1.5 is not a legal value of this parameter");
  CHECK(error_of(R"({"smoothquant": true})") == "--space: 'smoothquant': a bare plugin name takes false (leave it out of the search)");
  CHECK(error_of(R"({"smoothquant.alpha": {"choices": ["a"]}})") ==
        "--space: 'smoothquant.alpha': \"choices\" apply to categorical parameters only");
  CHECK(error_of("[1]") == "--space: expected a JSON object {\"plugin.parameter\": ...}");
}

TEST_CASE("the space files in configs/ apply to the built-in plugins", "[space]") {
  auto plugins = builtin_entries();
  const auto overrides = compactmind::host::read_json_argument(
      (fs::path(COMPACTMIND_SOURCE_DIR) / "configs" / "search-space-tiny.json").string(), "space");
  apply_space_overrides(plugins, overrides);
  CHECK(spec_of(plugins, "finetune", "steps").high == 16);
  CHECK(spec_of(plugins, "distill", "seqlen").default_value == 64);
}
