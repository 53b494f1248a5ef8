// The SDK's linear formats: the registry (a custom format saves and reloads through it, a missing
// one is named), compressed-tensors int32 packing, GPTQ's min-max quantizer on hand-computed values,
// and PackedLinear's packed forward against a float reference.
#include "compactmind/int_quantizer.h"
#include "compactmind/linear_format.h"
#include "compactmind/llama_model.h"
#include "compactmind/packed_linear.h"
#include "compactmind/random_model.h"

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

fs::path fixtures_dir() { return fs::path(COMPACTMIND_FIXTURES_DIR); }

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device random;
    path = fs::temp_directory_path() / ("cm-linear-formats-" + std::to_string(random()) + "-" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

// A representation no built-in format has: the weight stored transposed under its own name.
class TransposedLinear final : public Linear {
 public:
  explicit TransposedLinear(at::Tensor weight_t) : weight_t_(std::move(weight_t)) {}
  at::Tensor forward(const at::Tensor& input) const override { return at::matmul(input, weight_t_); }
  int64_t in_features() const override { return weight_t_.size(0); }
  int64_t out_features() const override { return weight_t_.size(1); }
  std::vector<std::pair<std::string, at::Tensor>> state() const override { return {{"weight_t", weight_t_}}; }
  int64_t stored_bytes(at::ScalarType dtype) const override {
    return weight_t_.numel() * int64_t(at::elementSize(dtype));
  }
  std::unique_ptr<Linear> clone() const override { return std::make_unique<TransposedLinear>(weight_t_.clone()); }
  std::string kind() const override { return "transposed"; }
  at::Tensor dense_weight() const override { return weight_t_.t(); }

 private:
  at::Tensor weight_t_;
};

class TransposedFormat final : public LinearFormat {
 public:
  std::string name() const override { return "test-transposed"; }
  std::unique_ptr<Linear> load(const LinearLoadRequest& request) const override {
    const std::string name = request.module_name + ".weight_t";
    check_linear_tensor(request, name, {request.in_features, request.out_features}, request.why);
    return std::make_unique<TransposedLinear>(request.checkpoint.load(name, at::kFloat));
  }
};

nlohmann::json read_json(const fs::path& file) {
  std::ifstream stream(file);
  return nlohmann::json::parse(stream);
}

}  // namespace

TEST_CASE("linear format registry: a custom format saves and reloads and a missing one is named", "[linear-format]") {
  CHECK(find_linear_format("int-quantized") != nullptr);
  CHECK(find_linear_format("pack-quantized") != nullptr);
  register_linear_format(std::make_shared<TransposedFormat>(), "test-plugin");
  CHECK_THROWS_WITH(register_linear_format(std::make_shared<TransposedFormat>(), "other-plugin"),
                    "linear format 'test-transposed' from 'other-plugin' is already registered by 'test-plugin'");

  LlamaModel model = LlamaModel::load(fixtures_dir() / "models" / "tiny-llama2");
  for (auto& [name, slot] : model.named_linear_slots())
    if (name != "lm_head") *slot = std::make_unique<TransposedLinear>((*slot)->dense_weight().t().contiguous());
  nlohmann::json config = {{"quant_method", "compressed-tensors"}, {"format", "test-transposed"}, {"ignore", {"lm_head"}}};
  record_format_provider(config, "test-plugin");
  model.config.source["quantization_config"] = config;
  TempDir temp;
  const fs::path saved = temp.path / "transposed";
  model.save(saved, {at::kFloat});
  const LlamaModel reloaded = LlamaModel::load(saved);
  CHECK(reloaded.layers[1].up_proj->kind() == "transposed");
  CHECK(reloaded.lm_head->kind() == "dense");
  const at::Tensor ids = at::arange(1, 33, at::kLong).unsqueeze(0);
  CHECK(at::equal(model.forward(ids), reloaded.forward(ids)));

  // The same checkpoint under a format nobody registered: refused, naming it and its plugin.
  nlohmann::json whole = read_json(saved / "config.json");
  whole["quantization_config"]["format"] = "no-such-format";
  std::ofstream(saved / "config.json") << whole.dump(2);
  CHECK_THROWS_WITH(LlamaModel::load(saved),
                    "'" + (saved / "config.json").string() +
                        "': linear format 'no-such-format' is not installed (installed: int-quantized "
                        "(compactmind-sdk), pack-quantized (compactmind-sdk), test-transposed (test-plugin)); it "
                        "is provided by plugin 'test-plugin': load that plugin (--plugin-dir) before loading this "
                        "model");
  whole["quantization_config"]["quant_method"] = "gptq";
  std::ofstream(saved / "config.json") << whole.dump(2);
  CHECK_THROWS_WITH(LlamaModel::load(saved), Catch::Contains("quant_method 'gptq'"));
}

TEST_CASE("linear format pack-quantized: int32 packing as compressed-tensors' pack_to_int32", "[linear-format]") {
  // compressed-tensors' own example: 8 bits, [1, 2] → 129 | 130 << 8 = 33409.
  const at::Tensor pair = at::tensor(std::vector<int32_t>{1, 2}).reshape({1, 2});
  CHECK(pack_int32(pair, 8).item<int32_t>() == 33409);
  // 4 bits: eight levels per word, the first in the lowest nibble; -8 → 0, 7 → 15.
  const at::Tensor eight = at::tensor(std::vector<int32_t>{-8, 7, 0, 0, 0, 0, 0, 1}).reshape({1, 8});
  CHECK(uint32_t(pack_int32(eight, 4).item<int32_t>()) == 0x988888F0u);
  for (int bits : {2, 3, 4, 8}) {
    const int64_t high = int64_t(1) << (bits - 1);
    const at::Tensor values = at::randint(-high, high, {5, 37}, at::kInt);  // 37: a padded last word
    const at::Tensor packed = pack_int32(values, bits);
    CHECK(packed.size(1) == (37 + 32 / bits - 1) / (32 / bits));
    CHECK(at::equal(unpack_int32(packed, bits, 37), values));
  }
  CHECK_THROWS_WITH(pack_int32(at::full({1, 1}, 8, at::kInt), 4), Catch::Contains("outside the signed 4-bit range"));
}

TEST_CASE("linear format pack-quantized: GPTQ's min-max quantizer on hand-computed values", "[linear-format]") {
  const at::Tensor w = at::tensor(std::vector<float>{-1.0f, 0.4f, 2.0f}).reshape({1, 3});
  // Asymmetric 4 bits: scale (2 - (-1)) / 15 = 0.2, zero round(1 / 0.2) = 5.
  const IntQuantizer asymmetric{4, false};
  const QuantParams params = find_quant_params(asymmetric, w);
  CHECK(params.scale.item<float>() == Approx(0.2f));
  CHECK(params.zero.item<float>() == 5.0f);
  CHECK(at::equal(quantize_levels(asymmetric, w, params), at::tensor(std::vector<float>{0, 7, 15}).reshape({1, 3})));
  CHECK(at::allclose(quantize_dequantize(asymmetric, w, params), w, 0, 1e-6));
  // Symmetric: xmax = 2, xmin = -2, scale 4 / 15, zero 8.
  const IntQuantizer symmetric{4, true};
  const QuantParams sym = find_quant_params(symmetric, w);
  CHECK(sym.scale.item<float>() == Approx(4.0f / 15.0f));
  CHECK(sym.zero.item<float>() == 8.0f);
  // A row of zeros gets [-1, 1]; a positive row still includes 0 in its range.
  const QuantParams zeros = find_quant_params(asymmetric, at::zeros({1, 4}));
  CHECK(zeros.scale.item<float>() == Approx(2.0f / 15.0f));
  const QuantParams positive = find_quant_params(asymmetric, at::tensor(std::vector<float>{1.0f, 3.0f}).reshape({1, 2}));
  CHECK(positive.zero.item<float>() == 0.0f);
  CHECK(positive.scale.item<float>() == Approx(0.2f));
}

TEST_CASE("linear format pack-quantized: packed forward equals the dequantized float layer", "[linear-format]") {
  at::manual_seed(3);
  // 300 × 1024: more rows than one forward block (256 rows of 1024), so the blocked path runs.
  const at::Tensor weight = at::randn({300, 1024}) * 0.05;
  const at::Tensor input = at::randn({2, 7, 1024});
  for (const auto& [bits, group, symmetric] : std::vector<std::tuple<int, int64_t, bool>>{
           {4, 128, false}, {4, -1, true}, {3, 64, false}, {8, 32, true}, {2, 128, false}}) {
    INFO("bits " << bits << " group " << group << " symmetric " << symmetric);
    const PackedScheme scheme{bits, group, symmetric};
    const auto layer = PackedLinear::quantize_rtn(weight, scheme);
    // Reference: the quantizer's own float result, group by group.
    at::Tensor expected = at::empty_like(weight);
    const int64_t columns = group == -1 ? 1024 : group;
    for (int64_t start = 0; start < 1024; start += columns) {
      const at::Tensor block = weight.narrow(1, start, columns);
      expected.narrow(1, start, columns).copy_(quantize_dequantize(scheme.quantizer(), block,
                                                                   find_quant_params(scheme.quantizer(), block)));
    }
    CHECK(at::equal(layer->dense_weight(), expected));
    CHECK(at::allclose(layer->forward(input), at::linear(input, expected), 1e-4, 1e-4));
    CHECK(layer->kind() == "w" + std::to_string(bits) + "a16");
    // Stored tensors rebuild the same layer.
    at::Tensor packed, scale, zero;
    for (const auto& [name, tensor] : layer->state()) {
      if (name == "weight_packed") packed = tensor;
      if (name == "weight_scale") scale = tensor;
      if (name == "weight_zero_point") zero = tensor;
    }
    CHECK(zero.defined() == !symmetric);
    const auto rebuilt = PackedLinear::from_stored(packed, scale, zero, 300, 1024, scheme, "test");
    CHECK(at::equal(rebuilt->dense_weight(), expected));
    CHECK(at::equal(layer->clone()->dense_weight(), expected));
  }
  // W4 g128 in memory: 4 bits + fp32 scale and a byte zero per 128 weights ≈ 0.27 of fp16.
  const auto w4 = PackedLinear::quantize_rtn(weight, {4, 128, false});
  CHECK(double(w4->resident_bytes()) <= 0.28 * double(weight.numel() * 2));
  CHECK(w4->stored_bytes(at::kHalf) == 300 * 128 * 4 + 300 * 8 * 4 + 38 * 8 * 4 + 2 * 8);
  CHECK_THROWS_WITH(PackedLinear::quantize_rtn(weight.narrow(1, 0, 100), {4, 128, false}),
                    "round-to-nearest: group_size 128 does not divide its 100 input features");
}
