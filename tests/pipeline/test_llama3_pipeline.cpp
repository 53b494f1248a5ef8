// A Llama-3.x checkpoint through `compactmind run` (models/tiny-llama3: tokenizer.json only, llama3
// RoPE scaling, GQA, tied bf16 embeddings): structured pruning then W8A8 quantization, saved, and the
// saved folder reloaded by `compactmind eval` to the same PPL, with tokenizer.json carried through and
// the embeddings still tied.
#include "compactmind/safetensors.h"
#include "pipeline_test_helpers.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

using namespace compactmind::test;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSeqlen = 128;
constexpr int64_t kWindows = 4;

fs::path tiny_llama3() { return model_dir("tiny-llama3"); }

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

nlohmann::json eval_report(const fs::path& model) {
  return last_json_line(run_host({"eval", "--model", model.string(), "--data", wikitext("test.txt").string(),
                                  "--seqlen", std::to_string(kSeqlen), "--max-windows", std::to_string(kWindows),
                                  "--threads", "2", "--json"}));
}

}  // namespace

TEST_CASE("run: tiny-llama3 pruned and quantized, saved, reloads to the same PPL with its tokenizer.json", "[run]") {
  const fs::path dir = fresh_temp_dir("llama3");
  const fs::path saved = dir / "m";
  const std::string pipeline =
      R"([{"method": "llm-pruner", "ratio": 0.25, "importance": "l2", "target": "both"},)"
      R"( {"method": "smoothquant", "alpha": 0.5}])";
  std::vector<std::string> arguments = {"run", "--model", tiny_llama3().string(), "--pipeline", pipeline,
                                        "--json", "--save", saved.string()};
  for (const auto& option : quick_data_options(kSeqlen, kWindows)) arguments.push_back(option);
  const auto report = last_json_line(run_host(arguments));
  REQUIRE(report.at("steps").size() == 2);
  CHECK(report.at("parameters").get<int64_t>() < report.at("base_parameters").get<int64_t>());
  const double ppl = report.at("ppl").get<double>();
  const auto base = eval_report(tiny_llama3());
  CHECK(base.at("record").at("token_count") == 299668);  // test.txt through tokenizer.json, BOS included
  const double base_ppl = base.at("ppl").get<double>();
  CHECK(ppl > base_ppl);        // compression costs some quality
  CHECK(ppl < 2.0 * base_ppl);  // but does not break the model

  // tokenizer.json and tokenizer_config.json byte for byte; no SentencePiece model appears.
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"})
    CHECK(file_bytes(saved / name) == file_bytes(tiny_llama3() / name));
  CHECK_FALSE(fs::exists(saved / "tokenizer.model"));
  // Still tied (no lm_head.weight written), still llama3 RoPE, the legacy config form kept.
  const nlohmann::json config = nlohmann::json::parse(file_bytes(saved / "config.json"));
  CHECK(config.at("tie_word_embeddings") == true);
  CHECK(config.at("torch_dtype") == "bfloat16");  // the checkpoint's own storage dtype and key
  CHECK(config.at("rope_scaling") == nlohmann::json::parse(file_bytes(tiny_llama3() / "config.json")).at("rope_scaling"));
  CHECK_FALSE(compactmind::SafetensorsReader::open(saved).contains("lm_head.weight"));

  const auto reloaded = eval_report(saved);
  CHECK(reloaded.at("ppl").get<double>() == Approx(ppl).epsilon(1e-3));
  CHECK(reloaded.at("record").at("token_count") == 299668);
  fs::remove_all(dir);
}
