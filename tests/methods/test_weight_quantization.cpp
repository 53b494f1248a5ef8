// Weight-only quantization plugins on the fixtures, loaded through the host's registry from the built
// libcm-rtn.so and libcm-gptq.so: the GPTQ solver against an independent implementation of the same
// equations (the OBS updates with an explicit inverse Hessian, one column at a time), GPTQ beating
// RTN on tiny-llama2, and saved pack-quantized checkpoints that are small, compressed-tensors-shaped
// and reload to the same perplexity. Perplexity on the first windows of test.txt only (few-window
// figures, to keep each case to seconds).
#include "compactmind/host/plugin_registry.h"
#include "compactmind/int_quantizer.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/packed_linear.h"
#include "compactmind/perplexity.h"
#include "compactmind/safetensors.h"
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include "gptq_solver.h"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

using namespace compactmind;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSeqlen = 256;
constexpr int64_t kEvalWindows = 16;
constexpr int64_t kCalibrationSamples = 32;

fs::path model_dir(const std::string& name) { return fs::path(COMPACTMIND_FIXTURES_DIR) / "models" / name; }
fs::path text_file(const std::string& name) {
  return fs::path(COMPACTMIND_FIXTURES_DIR) / "data" / "wikitext-2" / name;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device random;
    path = fs::temp_directory_path() / ("cm-weight-quant-" + std::to_string(random()) + "-" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

struct Setup {
  LlamaModel base;
  at::Tensor test_stream;
  at::Tensor calibration;
  MethodContext context;

  Setup() : base(LlamaModel::load(model_dir("tiny-llama2"))) {
    INFO("threads " << set_threads(1));
    const Tokenizer tokenizer = Tokenizer::load(model_dir("tiny-llama2"));
    test_stream = tokenize_file(tokenizer, text_file("test.txt")).ids;
    calibration = load_calibration_windows(tokenizer, text_file("valid.txt"), kCalibrationSamples, kSeqlen);
    context.set_calibration_windows([this] { return calibration; });
    context.set_base_model(&base);
  }
};

const host::PluginRegistry& registry() {
  static const host::PluginRegistry instance = [] {
    host::PluginRegistry loaded;
    for (const char* name : {"libcm-rtn.so", "libcm-gptq.so"}) {
      const fs::path file = fs::path(COMPACTMIND_BUILD_PLUGIN_DIR) / name;
      if (loaded.add_file(file) == nullptr)
        throw std::runtime_error("cannot load " + file.string() + ": " +
                                 (loaded.rejections().empty() ? "" : loaded.rejections().front().message));
    }
    return loaded;
  }();
  return instance;
}

LlamaModel apply(Setup& setup, const std::string& method, const nlohmann::json& params) {
  LlamaModel model = setup.base.clone();
  registry().apply(method, model, params, setup.context);
  return model;
}

double perplexity(const LlamaModel& model, const at::Tensor& stream) {
  PerplexityOptions options;
  options.seqlen = kSeqlen;
  options.max_windows = kEvalWindows;
  options.show_progress = false;
  const PerplexityResult result = evaluate_perplexity(model, stream, options);
  REQUIRE(result.finite);
  return result.ppl;
}

// The OBS form of the same equations, straightforwardly (the GPTQ paper's eqs. 2-3 in its order):
// quantize column j, spread (w_j - q_j) / [H⁻¹]_jj · [H⁻¹]_j,: over the columns after it, then remove
// j from H⁻¹ by Gaussian elimination. Float64, no blocks, no Cholesky.
at::Tensor obs_reference(const at::Tensor& weight, const at::Tensor& hessian, const PackedScheme& scheme,
                         double dampening) {
  at::Tensor W = weight.to(at::kDouble).clone();
  at::Tensor H = hessian.to(at::kDouble).clone();
  H.diagonal().add_(dampening * H.diagonal().mean().item<double>());
  at::Tensor Hinv = at::inverse(H);
  const int64_t columns = W.size(1);
  const IntQuantizer quantizer = scheme.quantizer();
  at::Tensor Q = at::zeros_like(W);
  QuantParams params;
  for (int64_t j = 0; j < columns; ++j) {
    if (j % scheme.group_size == 0)
      params = find_quant_params(quantizer, W.narrow(1, j, scheme.group_size).to(at::kFloat));
    const at::Tensor q =
        quantize_dequantize(quantizer, W.narrow(1, j, 1).to(at::kFloat), params).to(at::kDouble).squeeze(1);
    Q.select(1, j).copy_(q);
    const at::Tensor error = (W.select(1, j) - q) / Hinv[j][j];
    W -= error.unsqueeze(1) * Hinv[j].unsqueeze(0);
    Hinv -= Hinv.select(1, j).unsqueeze(1) * Hinv[j].unsqueeze(0) / Hinv[j][j];
  }
  return Q.to(at::kFloat);
}

double output_error(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& quantized) {
  return (at::linear(x, weight) - at::linear(x, quantized)).pow(2).sum().item<double>();
}

}  // namespace

TEST_CASE("gptq solver matches the straightforward OBS updates and beats round-to-nearest", "[gptq]") {
  at::manual_seed(11);
  // Correlated inputs (as activations are): x = z · M with a random mixing M.
  const at::Tensor x = at::matmul(at::randn({2048, 64}), at::randn({64, 64})) + 0.1 * at::randn({2048, 64});
  const at::Tensor weight = at::randn({48, 64});
  const at::Tensor hessian = 2.0 * at::matmul(x.t(), x) / 2048.0;
  gptq::GptqOptions options;
  options.scheme = {4, 32, false};
  options.block_size = 32;  // group = block: the reference's group parameters see every update
  const gptq::GptqResult result = gptq::gptq_quantize(weight, hessian, options, "test");
  const at::Tensor solved = PackedLinear(result.levels, result.scale, result.zero, options.scheme).dense_weight();
  const at::Tensor reference = obs_reference(weight, hessian, options.scheme, options.dampening);
  const at::Tensor rtn = PackedLinear::quantize_rtn(weight, options.scheme)->dense_weight();
  // The same decisions (a rare rounding tie may flip), the same output error.
  const double same = (solved - reference).abs().lt(1e-4).to(at::kFloat).mean().item<double>();
  const double gptq_error = output_error(x, weight, solved);
  const double reference_error = output_error(x, weight, reference);
  const double rtn_error = output_error(x, weight, rtn);
  INFO("identical " << same << ", ‖XWᵀ - XQᵀ‖² gptq " << gptq_error << ", OBS " << reference_error << ", RTN " << rtn_error);
  CHECK(same > 0.99);
  CHECK(gptq_error == Approx(reference_error).epsilon(0.01));
  CHECK(gptq_error < 0.7 * rtn_error);

  // Blocks smaller than the row, act-order and per-channel all still improve on RTN.
  for (const auto& [group, act_order, block] :
       std::vector<std::tuple<int64_t, bool, int64_t>>{{-1, false, 16}, {32, true, 16}, {-1, true, 128}}) {
    options.scheme = {4, group, false};
    options.act_order = act_order;
    options.block_size = block;
    const gptq::GptqResult variant = gptq::gptq_quantize(weight, hessian, options, "test");
    const at::Tensor quantized = PackedLinear(variant.levels, variant.scale, variant.zero, options.scheme).dense_weight();
    const double rtn_variant = output_error(x, weight, PackedLinear::quantize_rtn(weight, options.scheme)->dense_weight());
    INFO("group " << group << " act_order " << act_order << " block " << block);
    CHECK(output_error(x, weight, quantized) < 0.8 * rtn_variant);
  }
}

TEST_CASE("gptq W4 g128 beats rtn W4 g128 on tiny-llama2", "[gptq][rtn]") {
  Setup setup;
  const double fp32 = perplexity(setup.base, setup.test_stream);
  const nlohmann::json scheme = {{"bits", "4"}, {"group_size", "128"}, {"symmetric", false}};
  const LlamaModel rtn = apply(setup, "rtn", scheme);
  const LlamaModel gptq = apply(setup, "gptq", scheme);
  const double rtn_ppl = perplexity(rtn, setup.test_stream);
  const double gptq_ppl = perplexity(gptq, setup.test_stream);
  INFO("fp32 " << fp32 << ", rtn W4 g128 " << rtn_ppl << ", gptq W4 g128 " << gptq_ppl);
  CHECK(gptq.layers[3].down_proj->kind() == "w4a16");
  CHECK(rtn_ppl > fp32);
  CHECK(gptq_ppl < rtn_ppl);
  CHECK(gptq_ppl - fp32 < 0.8 * (rtn_ppl - fp32));
  // 3 bits costs more than 4, and GPTQ still keeps it near the base.
  const double gptq3 = perplexity(apply(setup, "gptq", {{"bits", "3"}, {"group_size", "128"}}), setup.test_stream);
  INFO("gptq W3 g128 " << gptq3);
  CHECK(gptq3 > gptq_ppl);
  CHECK(gptq3 < 1.1 * fp32);
}

TEST_CASE("a saved rtn W4 model is pack-quantized and small and reloads to the same perplexity", "[rtn]") {
  Setup setup;
  const LlamaModel model = apply(setup, "rtn", {{"bits", "4"}, {"group_size", "128"}, {"symmetric", false}});
  // Resident memory of the quantized linears vs their fp16 bytes.
  int64_t resident = 0, fp16_bytes = 0;
  for (const auto& [name, linear] : model.named_linears()) {
    if (name == "lm_head") continue;
    const auto* packed = dynamic_cast<const PackedLinear*>(linear);
    REQUIRE(packed != nullptr);
    resident += packed->resident_bytes();
    fp16_bytes += linear->in_features() * linear->out_features() * 2;
  }
  INFO("resident " << resident << " of fp16 " << fp16_bytes);
  CHECK(double(resident) <= 0.35 * double(fp16_bytes));
  const double before = perplexity(model, setup.test_stream);

  TempDir temp;
  const fs::path saved = temp.path / "w4";
  model.save(saved);
  const SafetensorsReader checkpoint = SafetensorsReader::open(saved);
  int64_t linear_bytes = 0;
  for (const auto& [name, linear] : setup.base.named_linears()) {
    if (name == "lm_head") continue;
    CHECK(checkpoint.info(name + ".weight_packed").dtype == at::kInt);
    CHECK(checkpoint.info(name + ".weight_zero_point").dtype == at::kInt);
    CHECK(checkpoint.info(name + ".weight_shape").dtype == at::kLong);
    CHECK_FALSE(checkpoint.contains(name + ".weight"));
    for (const char* suffix : {".weight_packed", ".weight_scale", ".weight_zero_point", ".weight_shape"}) {
      const auto& info = checkpoint.info(name + suffix);
      linear_bytes += int64_t(info.end - info.begin);
    }
  }
  INFO("stored linear bytes " << linear_bytes << " of fp16 " << fp16_bytes);
  CHECK(double(linear_bytes) <= 0.3 * double(fp16_bytes));
  CHECK(checkpoint.info("model.layers.0.mlp.down_proj.weight_packed").shape == std::vector<int64_t>{256, 96});
  CHECK(checkpoint.info("model.layers.0.mlp.down_proj.weight_scale").shape == std::vector<int64_t>{256, 6});
  CHECK(checkpoint.info("model.layers.0.mlp.down_proj.weight_zero_point").shape == std::vector<int64_t>{32, 6});

  std::ifstream config_file(saved / "config.json");
  const nlohmann::json config = nlohmann::json::parse(config_file);
  const nlohmann::json& quantization = config.at("quantization_config");
  CHECK(quantization.at("quant_method") == "compressed-tensors");
  CHECK(quantization.at("format") == "pack-quantized");
  CHECK(quantization.at("quantization_status") == "compressed");
  CHECK(quantization.at("ignore") == nlohmann::json::array({"lm_head"}));
  const nlohmann::json& weights = quantization.at("config_groups").at("group_0").at("weights");
  CHECK(weights.at("num_bits") == 4);
  CHECK(weights.at("type") == "int");
  CHECK(weights.at("symmetric") == false);
  CHECK(weights.at("strategy") == "group");
  CHECK(weights.at("group_size") == 128);
  CHECK(weights.at("actorder").is_null());
  CHECK(quantization.at("config_groups").at("group_0").at("input_activations").is_null());
  CHECK(quantization.at("compactmind").at("format_provider") == "rtn");

  const LlamaModel reloaded = LlamaModel::load(saved);
  CHECK(reloaded.layers[2].q_proj->kind() == "w4a16");
  CHECK(reloaded.lm_head->kind() == "dense");
  CHECK(at::equal(reloaded.layers[2].q_proj->dense_weight(), model.layers[2].q_proj->dense_weight()));
  CHECK(perplexity(reloaded, setup.test_stream) == Approx(before).epsilon(1e-9));
}

TEST_CASE("rtn and gptq refuse what they cannot quantize before changing anything", "[gptq][rtn]") {
  Setup setup;
  LlamaModel model = setup.base.clone();
  registry().apply("rtn", model, {{"bits", "8"}, {"group_size", "-1"}, {"symmetric", true}}, setup.context);
  CHECK(model.layers[0].q_proj->kind() == "w8a16");
  CHECK_THROWS_WITH(registry().apply("gptq", model, {{"bits", "4"}}, setup.context),
                    Catch::Contains("gptq: model.layers.0.self_attn.q_proj is a 'w8a16' linear"));
  MethodContext bare;
  LlamaModel fresh = setup.base.clone();
  CHECK_THROWS_WITH(registry().apply("gptq", fresh, {{"bits", "4"}}, bare), Catch::Contains("needs calibration data"));
  CHECK(fresh.layers[0].q_proj->kind() == "dense");
}
