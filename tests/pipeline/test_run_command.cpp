// `compactmind run` through the real binary on tiny-llama2 (8 windows of 128 tokens): PPL against the
// base model's, size and size ratio against the checkpoint, save + reload through `compactmind eval`,
// and the clear failures (invalid pipeline before any loading, non-finite loss).
#include "compactmind/safetensors.h"
#include "pipeline_test_helpers.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace compactmind::test;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSeqlen = 128;
constexpr int64_t kWindows = 8;

std::vector<std::string> run_arguments(const std::string& pipeline, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> arguments = {"run", "--model", tiny_llama2().string(), "--pipeline", pipeline, "--json"};
  for (const auto& option : quick_data_options(kSeqlen, kWindows)) arguments.push_back(option);
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return arguments;
}

double eval_ppl(const fs::path& model) {
  const auto result = last_json_line(run_host({"eval", "--model", model.string(), "--data",
                                               wikitext("test.txt").string(), "--seqlen", std::to_string(kSeqlen),
                                               "--max-windows", std::to_string(kWindows), "--threads", "2", "--json"}));
  return result.at("ppl").get<double>();
}

double base_ppl() {
  static const double ppl = eval_ppl(tiny_llama2());
  return ppl;
}

// Bytes of the checkpoint's tensors, read from the safetensors headers independently of the host.
int64_t checkpoint_bytes(const fs::path& dir) {
  const auto reader = compactmind::SafetensorsReader::open(dir);
  int64_t bytes = 0;
  for (const auto& name : reader.names()) bytes += static_cast<int64_t>(reader.info(name).end - reader.info(name).begin);
  return bytes;
}

std::string config(const std::string& name) { return (fs::path(COMPACTMIND_SOURCE_DIR) / "configs" / name).string(); }

}  // namespace

TEST_CASE("run: llm-pruner 20% shrinks the model by its parameter count and reloads to the same PPL", "[run]") {
  const fs::path dir = fresh_temp_dir("prune");
  const auto report = last_json_line(run_host(run_arguments(config("prune-20.json"), {"--save", (dir / "m").string()})));

  // tiny-llama2 is stored in float16 throughout: 2 bytes per parameter, before and after pruning.
  CHECK(report.at("base_size_bytes").get<int64_t>() == checkpoint_bytes(tiny_llama2()));
  CHECK(report.at("base_size_bytes").get<int64_t>() == 2 * report.at("base_parameters").get<int64_t>());
  CHECK(report.at("size_bytes").get<int64_t>() == 2 * report.at("parameters").get<int64_t>());
  const double ratio = report.at("size_ratio").get<double>();
  CHECK(ratio == Approx(double(report.at("size_bytes").get<int64_t>()) / report.at("base_size_bytes").get<int64_t>()));
  // 20% of the heads and MLP channels of the pruned layers: well under the whole model's 20%.
  CHECK(ratio < 0.95);
  CHECK(ratio > 0.80);

  REQUIRE(report.at("steps").size() == 1);
  const auto& step = report.at("steps")[0];
  CHECK(step.at("method") == "llm-pruner");
  CHECK(step.at("params").at("ratio") == 0.2);
  CHECK(step.at("params").at("importance") == "l2");
  CHECK(step.at("params").at("aggregation") == "sum");  // resolved default
  CHECK(step.at("seconds").get<double>() > 0.0);

  const double ppl = report.at("ppl").get<double>();
  CHECK(ppl > base_ppl());       // pruning without retraining costs quality
  CHECK(ppl < 3.0 * base_ppl());  // but 20% by L2 norm does not destroy a model
  const auto& evaluation = report.at("evaluation");
  CHECK(evaluation.at("windows") == kWindows);
  CHECK(evaluation.at("record").at("seqlen") == kSeqlen);
  CHECK(evaluation.at("record").at("windows") == kWindows);
  CHECK(evaluation.at("record").at("data_sha256").get<std::string>().size() == 64);

  // Pruning slices fp16 values without changing them, so the saved model is the evaluated one exactly.
  CHECK(checkpoint_bytes(dir / "m") == report.at("size_bytes").get<int64_t>());
  CHECK(eval_ppl(dir / "m") == Approx(ppl).epsilon(1e-6));
  fs::remove_all(dir);
}

TEST_CASE("run: smoothquant W8A8 keeps the PPL close to the base with int8 decoder layers", "[run]") {
  const fs::path dir = fresh_temp_dir("sq");
  const auto report =
      last_json_line(run_host(run_arguments(config("smoothquant-w8a8.json"), {"--save", (dir / "m").string(), "--compare-base"})));
  const double ppl = report.at("ppl").get<double>();
  // The smoothquant plugin's own expectation on tiny-llama2: W8A8 within a few percent of float.
  CHECK(std::abs(ppl / base_ppl() - 1.0) < 0.05);
  const double ratio = report.at("size_ratio").get<double>();
  CHECK(ratio == Approx(double(report.at("size_bytes").get<int64_t>()) / checkpoint_bytes(tiny_llama2())));
  // int8 decoder linears (plus scales); embeddings, lm_head and norms stay float16: on tiny-llama2
  // the 2·4096·256 embedding and lm_head parameters are 29% of the model, hence about 0.65.
  CHECK(ratio > 0.62);
  CHECK(ratio < 0.68);
  CHECK(report.at("steps")[0].at("params").at("alpha") == 0.5);
  // 8 windows × 127 predicted tokens compared with the base: close, but not identical.
  const auto& agreement = report.at("base_agreement");
  CHECK(agreement.at("tokens") == kWindows * (kSeqlen - 1));
  CHECK(agreement.at("kl_divergence").get<double>() > 0.0);
  CHECK(agreement.at("kl_divergence").get<double>() < 0.05);
  CHECK(agreement.at("top1_agreement").get<double>() > 0.9);
  CHECK(agreement.at("top1_agreement").get<double>() < 1.0);
  CHECK(report.at("steps")[0].at("params").at("act_quant") == "per_token");
  CHECK(eval_ppl(dir / "m") == Approx(ppl).epsilon(1e-3));
  fs::remove_all(dir);
}

TEST_CASE("run: an invalid pipeline fails before the model is loaded, naming the step", "[run]") {
  const auto result = run_host(run_arguments(R"([{"method": "smoothquant", "alpha": 1.5}])"));
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("pipeline step 1 ('smoothquant'): parameter 'alpha': 1.5 is outside [0.0, 1.0]"));
  CHECK_THAT(result.err, !Catch::Contains("threads:"));  // the executor never started
  CHECK(result.out.empty());
}

TEST_CASE("run: a model that produces NaN fails with a clear message", "[run]") {
  const std::string plugin_dir = std::string(CM_PIPELINE_TEST_PLUGIN_ROOT) + "/norm-scale";
  const auto result = run_host(run_arguments(R"([{"method": "norm-scale", "poison": true}])", {"--plugin-dir", plugin_dir}));
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("the compressed model produced a non-finite loss (NaN/Inf)"));
}
