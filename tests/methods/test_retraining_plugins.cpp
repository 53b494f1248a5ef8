// The finetune and distill plugins as the host runs them: loaded from their .so files by the plugin
// registry, applied to tiny-llama2 with a MethodContext (teacher = the undamaged base).
#include "compactmind/host/plugin_registry.h"
#include "compactmind/int8_linear.h"
#include "compactmind/method_context.h"
#include "compactmind/threads.h"
#include "compactmind/training.h"

#include "retraining_fixtures.h"

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include <iostream>

namespace {

const compactmind::host::PluginRegistry& registry() {
  static const compactmind::host::PluginRegistry instance = compactmind::host::PluginRegistry::discover(
      compactmind::host::DiscoveryOptions::only({COMPACTMIND_BUILD_PLUGIN_DIR}));
  return instance;
}

// Seeded noise of 100% of each linear weight's RMS: the damaged copy the issue allows.
void damage(compactmind::LlamaModel& model) {
  at::NoGradGuard no_grad;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(1);
  for (auto& [name, linear] : model.named_linears()) {
    at::Tensor& weight = compactmind::as_dense(*linear, name).weight;
    const double rms = weight.pow(2).mean().sqrt().item<double>();
    weight.add_(at::empty_like(weight).normal_(0.0, 1.0 * rms, generator));
  }
}

double held_out_loss(const compactmind::LlamaModel& model) {
  static const at::Tensor windows = retraining_test::held_out_windows(4, 64);
  at::NoGradGuard no_grad;
  return compactmind::causal_lm_loss(model.forward(windows), windows).item<double>();
}

struct Fixture {
  compactmind::LlamaModel base = retraining_test::tiny_llama2();
  compactmind::MethodContext context;
  Fixture() {
    retraining_test::use_one_thread();
    context.set_base_model(&base);
    context.set_train_tokens([] { return retraining_test::training_tokens(); });
  }
};

const nlohmann::json kQuick = {{"steps", 8}, {"batch", 2}, {"seqlen", 64}, {"lr", 1e-3}};

nlohmann::json with(nlohmann::json params, const nlohmann::json& extra) {
  params.update(extra);
  return params;
}

}  // namespace

TEST_CASE("both retraining plugins load and declare their space", "[retraining][plugins]") {
  for (const char* name : {"finetune", "distill"}) {
    INFO(name);
    const compactmind::host::PluginInfo& plugin = registry().get(name);
    CHECK(plugin.kind == compactmind::PluginKind::kRetraining);
    const nlohmann::json space = nlohmann::json::parse(plugin.space_json);
    std::map<std::string, nlohmann::json> parameters;
    for (const auto& parameter : space["parameters"]) parameters[parameter["name"]] = parameter;
    CHECK(parameters.at("lr")["log"] == true);
    CHECK(parameters.at("lr")["low"] == 1e-5);
    CHECK(parameters.at("lr")["high"] == 1e-2);
    CHECK(parameters.at("mode")["choices"] == nlohmann::json({"full", "lora"}));
    CHECK(parameters.at("lora_rank")["condition"] == nlohmann::json({{"parameter", "mode"}, {"equals", "lora"}}));
    CHECK(parameters.at("seqlen")["tunable"] == false);
    CHECK(parameters.count("temperature") == (std::string(name) == "distill" ? 1u : 0u));
    CHECK(parameters.count("kd_weight") == (std::string(name) == "distill" ? 1u : 0u));
  }
}

TEST_CASE("finetune (full and LoRA) and distill recover part of a damaged model's loss",
          "[retraining][plugins]") {
  Fixture fixture;
  compactmind::LlamaModel damaged = fixture.base.clone();
  damage(damaged);
  const double base_loss = held_out_loss(fixture.base);
  const double damaged_loss = held_out_loss(damaged);
  const std::vector<std::pair<std::string, nlohmann::json>> runs = {
      {"finetune", with(kQuick, {{"mode", "full"}, {"lr", 5e-4}})},
      {"finetune", with(kQuick, {{"mode", "lora"}})},
      {"distill", with(kQuick, {{"mode", "lora"}, {"temperature", 2.0}, {"kd_weight", 0.5}})}};
  for (const auto& [name, params] : runs) {
    INFO(name << " " << params.dump());
    compactmind::LlamaModel model = damaged.clone();
    registry().apply(name, model, params, fixture.context);
    const double loss = held_out_loss(model);
    std::cout << name << " " << params["mode"] << ": held-out loss base " << base_loss << ", damaged "
              << damaged_loss << ", after 8 steps " << loss << "\n";
    CHECK(loss < damaged_loss - 0.05);
    for (const auto& [linear_name, linear] : model.named_linears()) CHECK(linear->kind() == "dense");
  }
}

TEST_CASE("retraining an int8-quantized model is refused", "[retraining][plugins]") {
  Fixture fixture;
  compactmind::LlamaModel model = fixture.base.clone();
  auto& layer = model.layers[0];
  layer.q_proj = compactmind::Int8Linear::quantize(compactmind::as_dense(*layer.q_proj, "q").weight,
                                                   compactmind::WeightQuant::kPerChannel, {});
  for (const char* name : {"finetune", "distill"}) {
    CHECK_THROWS_WITH(
        registry().apply(name, model, kQuick, fixture.context),
        Catch::Contains(std::string(name) + ": cannot retrain a quantized model — layer "
                        "'model.layers.0.self_attn.q_proj' is 'w8a8', not float ('dense'); pipelines "
                        "put retraining before quantization"));
  }
}

TEST_CASE("a diverging run names the step and the loss through the plugin", "[retraining][plugins]") {
  Fixture fixture;
  compactmind::LlamaModel model = fixture.base.clone();
  {
    at::NoGradGuard no_grad;
    compactmind::as_dense(*model.layers[3].o_proj, "o").weight[0][0] = std::numeric_limits<float>::infinity();
  }
  CHECK_THROWS_WITH(registry().apply("distill", model, kQuick, fixture.context),
                    Catch::Contains("distill: training diverged at step 1 of 8: loss is nan"));
}
