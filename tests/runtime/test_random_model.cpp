// Random LLaMA checkpoints: shapes, statistics, determinism, and the `tools random-model` command.
#include "compactmind/llama_model.h"
#include "compactmind/random_model.h"
#include "compactmind/safetensors.h"

#include "io_test_support.h"
#include "support/run_host.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

using namespace compactmind;
using compactmind::test::run_host;
using compactmind::testing::model_tensors;
using compactmind::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Small but not uniform in anything that could hide a transposition: GQA, head_dim ≠ hidden/heads.
nlohmann::json small_shape() {
  return {{"vocab_size", 96},        {"hidden_size", 48},       {"intermediate_size", 80},
          {"num_hidden_layers", 3},  {"num_attention_heads", 4}, {"num_key_value_heads", 2},
          {"head_dim", 16},          {"tie_word_embeddings", false}};
}

}  // namespace

TEST_CASE("a random model has the shape, N(0, std²) weights and unit norms", "[random_model]") {
  const LlamaConfig config = LlamaConfig::from_json(small_shape(), "shape.json");
  TempDir scratch("random");
  RandomModelOptions options;
  options.seed = 7;
  options.float_dtype = at::kFloat;
  write_random_llama_model(config, scratch / "model", options);
  const LlamaModel model = LlamaModel::load(scratch / "model");
  CHECK(model.config.storage_dtype == "float32");
  CHECK(model.layers[1].q_proj->out_features() == 64);
  CHECK(model.layers[1].k_proj->out_features() == 32);
  CHECK(model.layers[2].down_proj->in_features() == 80);
  REQUIRE(model.lm_head != nullptr);
  CHECK(model.lm_head->out_features() == 96);
  CHECK(at::equal(model.layers[0].input_layernorm, at::ones({48})));
  CHECK(at::equal(model.norm, at::ones({48})));
  const at::Tensor up = as_dense(*model.layers[1].up_proj, "test").weight;
  CHECK(up.mean().item<double>() == Approx(0.0).margin(0.002));
  CHECK(up.std().item<double>() == Approx(0.02).epsilon(0.05));
  // Different tensors draw different values.
  CHECK_FALSE(at::equal(as_dense(*model.layers[1].gate_proj, "test").weight, up));

  // The in-memory model equals what was written (float32), tensor for tensor.
  const LlamaModel in_memory = random_llama_model(config, 7);
  const auto written = model_tensors(model);
  for (const auto& [name, tensor] : model_tensors(in_memory)) {
    INFO(name);
    CHECK(at::equal(tensor, written.at(name)));
  }
  CHECK_FALSE(at::equal(random_llama_model(config, 8).embed_tokens, model.embed_tokens));
  CHECK(fs::exists(scratch / "model" / "generation_config.json"));
  CHECK_FALSE(fs::exists(scratch / "model" / "tokenizer.model"));
}

TEST_CASE("tools random-model writes a loadable checkpoint with a tokenizer", "[random_model]") {
  TempDir scratch("random-cli");
  nlohmann::json shape = small_shape();
  shape["vocab_size"] = 4096;  // the fixtures' SentencePiece vocabulary
  std::ofstream(scratch / "shape.json") << shape.dump();
  std::ofstream(scratch / "small-vocab.json") << small_shape().dump();
  const fs::path out = scratch / "cli-model";
  const fs::path tokenizer_dir = compactmind::test::model_dir("tiny-llama2");
  const auto written = run_host({"tools", "random-model", "--shape", (scratch / "shape.json").string(), "--out",
                                 out.string(), "--seed", "3", "--dtype", "bfloat16", "--threads", "1",
                                 "--tokenizer-from", tokenizer_dir.string()});
  REQUIRE(written.exit_code == 0);
  const std::string& log = written.err;
  CHECK_THAT(log, Catch::Contains("threads: 1"));
  // 4096·48 (embed) + 3·(2·48 + 48·(64+32+32) + 64·48 + 3·80·48) + 48 + 4096·48 (lm_head) parameters.
  CHECK_THAT(log, Catch::Contains("455760 parameters, 911520 bytes as bfloat16"));

  const LlamaModel model = LlamaModel::load(out);
  CHECK(model.config.storage_dtype == "bfloat16");
  CHECK(model.parameter_count() == 455760);
  CHECK(SafetensorsReader::open(out).info("model.embed_tokens.weight").dtype_name == "BF16");
  CHECK(fs::exists(out / "tokenizer.model"));
  CHECK(fs::exists(out / "tokenizer_config.json"));
  // Seeded: the same command gives the same bf16 values as the in-memory generator rounded to bf16.
  const LlamaModel expected = random_llama_model(model.config, 3);
  CHECK(at::equal(model.embed_tokens, expected.embed_tokens.to(at::kBFloat16).to(at::kFloat)));

  CHECK(run_host({"tools", "random-model", "--shape", (scratch / "shape.json").string(), "--out",
                  (scratch / "x").string(), "--dtype", "int8"})
            .exit_code != 0);
  CHECK_FALSE(fs::exists(scratch / "x"));

  // The fixtures' tokenizer has 4096 pieces; this shape only 96 embeddings.
  const auto too_small = run_host({"tools", "random-model", "--shape", (scratch / "small-vocab.json").string(),
                                   "--out", (scratch / "y").string(), "--tokenizer-from", tokenizer_dir.string()});
  CHECK(too_small.exit_code != 0);
  const std::string& error = too_small.err;
  CHECK_THAT(error, Catch::Contains("has 4096 pieces, but '" + (scratch / "small-vocab.json").string() +
                                    "' gives vocab_size 96: use a shape with vocab_size ≥ 4096"));
  CHECK_FALSE(fs::exists(scratch / "y"));
}

TEST_CASE("a random model with the fixtures' tokenizer can be evaluated", "[random_model]") {
  TempDir scratch("random-eval");
  nlohmann::json shape = small_shape();
  shape["vocab_size"] = 4096;  // the fixtures' SentencePiece vocabulary
  std::ofstream(scratch / "shape.json") << shape.dump();
  const fs::path out = scratch / "model";
  REQUIRE(run_host({"tools", "random-model", "--shape", (scratch / "shape.json").string(), "--out", out.string(),
                    "--threads", "1", "--tokenizer-from", compactmind::test::model_dir("tiny-llama2").string()})
              .exit_code == 0);
  const auto evaluated = run_host({"eval", "--model", out.string(), "--data", compactmind::test::wikitext("test.txt").string(),
                                   "--seqlen", "64", "--max-windows", "2", "--threads", "1", "--json"});
  REQUIRE(evaluated.exit_code == 0);
  const auto report = nlohmann::json::parse(evaluated.out);
  // Weights of std 0.02 on 48 dims give near-zero logits: a near-uniform guess over 4096 tokens.
  CHECK(report["ppl"].get<double>() == Approx(4096).epsilon(0.1));
  CHECK(report["windows"] == 2);
}
