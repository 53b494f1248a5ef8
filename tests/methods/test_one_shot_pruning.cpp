// One-shot pruning plugins (plugins/magnitude, plugins/wanda) loaded through the host's registry, and
// the SDK's pruning masks on hand-made metrics. Wanda's first-layer mask is checked against an
// independent computation of its metric from the base model's own forward (layer 0's inputs do not
// depend on any pruning). Perplexity on the first 16 windows of test.txt only.
#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/perplexity.h"
#include "compactmind/sparsity_mask.h"
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

using namespace compactmind;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSeqlen = 256;

fs::path model_dir() { return fs::path(COMPACTMIND_FIXTURES_DIR) / "models" / "tiny-llama2"; }
fs::path text_file(const std::string& name) {
  return fs::path(COMPACTMIND_FIXTURES_DIR) / "data" / "wikitext-2" / name;
}

const host::PluginRegistry& registry() {
  static const host::PluginRegistry instance = [] {
    host::PluginRegistry loaded;
    for (const char* name : {"libcm-magnitude.so", "libcm-wanda.so"}) {
      const fs::path file = fs::path(COMPACTMIND_BUILD_PLUGIN_DIR) / name;
      if (loaded.add_file(file) == nullptr)
        throw std::runtime_error("cannot load " + file.string() + ": " +
                                 (loaded.rejections().empty() ? "" : loaded.rejections().front().message));
    }
    return loaded;
  }();
  return instance;
}

double perplexity(const LlamaModel& model, const at::Tensor& stream) {
  PerplexityOptions options;
  options.seqlen = kSeqlen;
  options.max_windows = 16;
  options.show_progress = false;
  const PerplexityResult result = evaluate_perplexity(model, stream, options);
  REQUIRE(result.finite);
  return result.ppl;
}

double zero_fraction(const at::Tensor& weight) { return weight.eq(0).to(at::kDouble).mean().item<double>(); }

}  // namespace

TEST_CASE("one-shot pruning masks on hand-made metrics", "[pruning]") {
  const at::Tensor metric = at::tensor(std::vector<float>{4, 1, 3, 2, 0.5f, 8, 7, 6}).reshape({1, 8});
  const at::Tensor two_four = pruning_mask(metric, parse_sparsity_pattern("2:4"), 0.0, UnstructuredScope::kRow, "m");
  CHECK(at::equal(two_four, at::tensor(std::vector<int>{0, 1, 0, 1, 1, 0, 0, 1}).to(at::kBool).reshape({1, 8})));
  const at::Tensor four_eight = pruning_mask(metric, parse_sparsity_pattern("4:8"), 0.0, UnstructuredScope::kRow, "m");
  CHECK(at::equal(four_eight, metric < 3.5));
  // Per row: the ⌊8 · 0.3⌋ = 2 smallest; per layer: everything ≤ the value at index ⌊numel · s⌋.
  CHECK(at::equal(pruning_mask(metric, {}, 0.3, UnstructuredScope::kRow, "m"), metric <= 1.0));
  const at::Tensor two_rows = at::cat({metric, metric * 10});
  CHECK(pruning_mask(two_rows, {}, 0.5, UnstructuredScope::kLayer, "m").sum().item<int64_t>() == 9);
  CHECK(pruning_mask(two_rows, {}, 0.5, UnstructuredScope::kRow, "m").sum(1).equal(at::tensor(std::vector<int64_t>{4, 4})));
  CHECK_THROWS_WITH(pruning_mask(metric.narrow(1, 0, 6), parse_sparsity_pattern("4:8"), 0.0, UnstructuredScope::kRow, "layer x"),
                    "layer x: 4:8 sparsity needs input features in multiples of 8, it has 6");
  CHECK_THROWS_WITH(parse_sparsity_pattern("1:3"), "sparsity pattern '1:3' is not one of unstructured, 2:4, 4:8");
}

TEST_CASE("magnitude and wanda prune tiny-llama2 to their pattern and wanda by weight times input norm", "[pruning]") {
  INFO("threads " << set_threads(1));
  const LlamaModel base = LlamaModel::load(model_dir());
  const Tokenizer tokenizer = Tokenizer::load(model_dir());
  const at::Tensor test_stream = tokenize_file(tokenizer, text_file("test.txt")).ids;
  const at::Tensor calibration = load_calibration_windows(tokenizer, text_file("valid.txt"), 16, kSeqlen);
  MethodContext context;
  context.set_calibration_windows([&] { return calibration; });
  context.set_base_model(&base);
  const double fp32 = perplexity(base, test_stream);

  LlamaModel magnitude = base.clone();
  registry().apply("magnitude", magnitude, {{"pattern", "unstructured"}, {"sparsity", 0.5}}, context);
  const at::Tensor up = magnitude.layers[2].up_proj->dense_weight();
  CHECK(zero_fraction(up) == Approx(0.5).margin(0.001));
  // The largest surviving |w| of a layer is above every pruned one's.
  const at::Tensor original = base.layers[2].up_proj->dense_weight();
  CHECK(original.abs().masked_select(up.eq(0)).max().item<float>() <=
        original.abs().masked_select(up.ne(0)).min().item<float>());
  CHECK(magnitude.lm_head->dense_weight().eq(0).sum().item<int64_t>() == 0);

  LlamaModel wanda = base.clone();
  registry().apply("wanda", wanda, {{"pattern", "2:4"}}, context);
  for (const auto& [name, linear] : wanda.named_linears()) {
    if (name == "lm_head") continue;
    INFO(name);
    const at::Tensor zeros_per_block = linear->dense_weight().eq(0).reshape({-1, 4}).sum(1);
    CHECK(zeros_per_block.ge(2).all().item<bool>());
  }
  // Layer 0 sees the embeddings whatever is pruned: its metric from the base model's own forward.
  at::Tensor squared = at::zeros({base.config.hidden_size});
  {
    at::InferenceMode inference;
    const LinearInputObserver observer = [&](const std::string& name, const at::Tensor& input) {
      if (name == "model.layers.0.self_attn.q_proj") squared += input.reshape({-1, input.size(-1)}).pow(2).sum(0);
    };
    ForwardOptions options;
    options.observer = &observer;
    base.forward(calibration, options);
  }
  const at::Tensor metric = base.layers[0].q_proj->dense_weight().abs() * squared.sqrt().unsqueeze(0);
  const at::Tensor expected = std::get<1>(metric.reshape({-1, 4}).topk(2, 1, /*largest=*/false));
  const at::Tensor pruned = wanda.layers[0].q_proj->dense_weight().reshape({-1, 4}).eq(0);
  const double agreement = pruned.gather(1, expected).to(at::kDouble).mean().item<double>();
  CHECK(agreement > 0.999);
  // Wanda's metric is not magnitude's: the masks differ.
  LlamaModel magnitude24 = base.clone();
  registry().apply("magnitude", magnitude24, {{"pattern", "2:4"}}, context);
  CHECK_FALSE(at::equal(magnitude24.layers[0].q_proj->dense_weight().eq(0), pruned.reshape({-1, 256})));

  const double magnitude_ppl = perplexity(magnitude, test_stream);
  const double wanda_ppl = perplexity(wanda, test_stream);
  const double magnitude24_ppl = perplexity(magnitude24, test_stream);
  LlamaModel wanda50 = base.clone();
  registry().apply("wanda", wanda50, {{"pattern", "unstructured"}, {"sparsity", 0.5}}, context);
  const double wanda50_ppl = perplexity(wanda50, test_stream);
  INFO("fp32 " << fp32 << ", magnitude 50% " << magnitude_ppl << ", wanda 50% " << wanda50_ppl
               << ", magnitude 2:4 " << magnitude24_ppl << ", wanda 2:4 " << wanda_ppl);
  CHECK(zero_fraction(wanda50.layers[1].down_proj->dense_weight()) == Approx(0.5).margin(0.001));
  CHECK(magnitude_ppl > fp32);
  CHECK(magnitude_ppl < 1.1 * fp32);
  CHECK(wanda50_ppl < 1.1 * fp32);
  CHECK(wanda_ppl < 1.5 * fp32);
  CHECK(magnitude24_ppl < 1.5 * fp32);
}

TEST_CASE("wanda needs calibration data and leaves the model unchanged without it", "[pruning]") {
  const LlamaModel base = LlamaModel::load(model_dir());
  MethodContext bare;
  LlamaModel model = base.clone();
  CHECK_THROWS_WITH(registry().apply("wanda", model, {{"pattern", "2:4"}}, bare), Catch::Contains("needs calibration data"));
  CHECK(zero_fraction(model.layers[0].q_proj->dense_weight()) == 0.0);
}
