// config.json in both Hugging Face forms, RoPE scaling refusals, head_dim, the per-layer extension.
#include "compactmind/llama_config.h"

#include "io_test_support.h"

#include <catch2/catch.hpp>

using namespace compactmind;
using compactmind::test::fixtures_dir;
using nlohmann::json;

namespace {

// Llama-2-7b-hf's config.json, as published (older form: torch_dtype, no rope_theta, rope_scaling null).
json llama2_7b_config() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008,
    "max_position_embeddings": 4096, "model_type": "llama", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 32, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "float16",
    "transformers_version": "4.31.0.dev0", "use_cache": true, "vocab_size": 32000})");
}

std::string error_of(const json& config) {
  try {
    LlamaConfig::from_json(config, "cfg/config.json");
  } catch (const std::exception& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a layer count beyond any real model is refused before anything is allocated", "[config]") {
  json config = llama2_7b_config();
  config["num_hidden_layers"] = 1000000000;  // once found by the parser fuzzer: 24 GB of layer shapes
  CHECK(error_of(config) ==
        "config 'cfg/config.json': \"num_hidden_layers\" is 1000000000, beyond any real model (at most 4096 here)");
  config["num_hidden_layers"] = 4096;
  CHECK(error_of(config) == "(no error)");
}

TEST_CASE("the transformers-5 form of the fixtures", "[config]") {
  const LlamaConfig config = LlamaConfig::load(fixtures_dir() / "models" / "tiny-gqa" / "config.json");
  CHECK(config.vocab_size == 4096);
  CHECK(config.hidden_size == 256);
  CHECK(config.num_hidden_layers == 4);
  CHECK(config.num_attention_heads == 8);
  CHECK(config.num_key_value_heads == 2);
  CHECK(config.head_dim == 32);
  CHECK(config.intermediate_size == 768);
  CHECK(config.max_position_embeddings == 1024);
  CHECK(config.rms_norm_eps == 1e-5);
  CHECK(config.rope_theta == 10000.0);
  CHECK(config.tie_word_embeddings);
  CHECK(config.storage_dtype == "bfloat16");
  CHECK(config.bos_token_id == 1);
  CHECK(config.eos_token_id == 2);
  REQUIRE(config.layers.size() == 4);
  CHECK(config.layers[3] == LayerShape{8, 2, 768});
  CHECK(config.is_uniform());
  CHECK(config.source["transformers_version"] == "5.17.0");
}

TEST_CASE("the older form: torch_dtype, top-level rope_theta or none, rope_scaling null", "[config]") {
  json source = llama2_7b_config();
  LlamaConfig config = LlamaConfig::from_json(source, "Llama-2-7b-hf/config.json");
  CHECK(config.rope_theta == 10000.0);  // absent: transformers' default
  CHECK(config.head_dim == 128);        // hidden / heads
  CHECK(config.storage_dtype == "float16");
  CHECK(config.num_key_value_heads == 32);
  CHECK(config.max_position_embeddings == 4096);

  source["rope_theta"] = 500000.0;
  source.erase("rope_scaling");
  source.erase("num_key_value_heads");  // absent: multi-head attention
  config = LlamaConfig::from_json(source, "x/config.json");
  CHECK(config.rope_theta == 500000.0);
  CHECK(config.num_key_value_heads == 32);

  source.erase("torch_dtype");
  CHECK(LlamaConfig::from_json(source, "x").storage_dtype == "float32");
  source["rope_scaling"] = {{"rope_type", "default"}};
  CHECK(LlamaConfig::from_json(source, "x").rope_theta == 500000.0);
}

TEST_CASE("RoPE scaling: llama3, linear and dynamic are read, other types are refused by name", "[config]") {
  // Llama-3.2's config.json (older form): llama3 scaling under "rope_scaling".
  const LlamaConfig llama3 = LlamaConfig::load(fixtures_dir() / "models" / "tiny-llama3" / "config.json");
  CHECK(llama3.rope_theta == 500000.0);
  CHECK(llama3.rope_scaling == RopeScaling{"llama3", 32.0, 1.0, 4.0, 8192});
  CHECK(llama3.to_json()["rope_scaling"] == llama3.source["rope_scaling"]);  // written back as it was
  CHECK_FALSE(llama3.to_json().contains("rope_parameters"));

  json source = llama2_7b_config();
  source["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  CHECK(LlamaConfig::from_json(source, "x").rope_scaling == RopeScaling{"linear", 2.0, 1.0, 1.0, 0});
  source["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 4.0}};
  CHECK(LlamaConfig::from_json(source, "x").rope_scaling.type == "dynamic");
  source["rope_scaling"] = {{"rope_type", "dynamic"}};
  CHECK(error_of(source) ==
        "config 'cfg/config.json': \"rope_scaling.factor\" is missing (RoPE scaling of type 'dynamic' needs it)");
  source["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0}};
  CHECK(error_of(source) == "config 'cfg/config.json': \"rope_scaling.original_max_position_embeddings\" is missing "
                            "(RoPE scaling of type 'llama3' needs it)");
  source["rope_scaling"]["original_max_position_embeddings"] = 8192;
  source["rope_scaling"]["high_freq_factor"] = 1.0;
  CHECK(error_of(source) ==
        "config 'cfg/config.json': \"rope_scaling\": high_freq_factor 1.0 must be larger than low_freq_factor 1.0");
  source["rope_scaling"] = {{"type", "yarn"}, {"factor", 2.0}};
  CHECK(error_of(source) ==
        "config 'cfg/config.json': \"rope_scaling\" asks for RoPE scaling of type 'yarn', which CompactMind does "
        "not implement (it implements 'default', 'linear', 'dynamic' and 'llama3')");
  source["rope_scaling"] = "dynamic";
  CHECK(error_of(source) == "config 'cfg/config.json': \"rope_scaling\" must be null or an object, got \"dynamic\"");

  // The transformers-5 form: the scaling under "rope_parameters", written back there with its fields.
  source = llama2_7b_config();
  source["rope_parameters"] = {{"rope_theta", 500000.0}, {"rope_type", "longrope"}};
  CHECK_THAT(error_of(source), Catch::Contains("\"rope_parameters\" asks for RoPE scaling of type 'longrope'"));
  source["rope_parameters"] = {{"rope_theta", 500000.0}, {"rope_type", "linear"}, {"factor", 4.0}};
  const LlamaConfig modern = LlamaConfig::from_json(source, "x");
  CHECK(modern.rope_scaling == RopeScaling{"linear", 4.0, 1.0, 1.0, 0});
  CHECK(modern.to_json()["rope_parameters"] == json{{"rope_theta", 500000.0}, {"rope_type", "linear"}, {"factor", 4.0}});
}

TEST_CASE("Mistral loads as LLaMA with its sliding window, Qwen2 is refused by name", "[config]") {
  json source = llama2_7b_config();
  source["model_type"] = "mistral";
  source["architectures"] = {"MistralForCausalLM"};
  source["sliding_window"] = nullptr;  // Mistral-7B-v0.2 and later
  CHECK(LlamaConfig::from_json(source, "x").sliding_window == 0);
  source["sliding_window"] = 4096;  // v0.1: checked against the context in the forward
  const LlamaConfig mistral = LlamaConfig::from_json(source, "x");
  CHECK(mistral.sliding_window == 4096);
  CHECK(mistral.to_json()["model_type"] == "mistral");
  source["sliding_window"] = -1;
  CHECK(error_of(source) == "config 'cfg/config.json': \"sliding_window\" must be a positive integer, got -1");

  source = llama2_7b_config();
  source["model_type"] = "qwen2";
  CHECK(error_of(source) == "config 'cfg/config.json': model_type \"qwen2\" is not supported: Qwen2 has biases on "
                            "q/k/v (attention_bias), which CompactMind's LLaMA does not implement");
  source["model_type"] = "gemma";
  CHECK_THAT(error_of(source), Catch::Contains("model_type \"gemma\" is not supported"));
}

TEST_CASE("head_dim: explicit, or hidden / heads", "[config]") {
  json source = llama2_7b_config();
  source["hidden_size"] = 256;
  source["num_attention_heads"] = 8;
  source["num_key_value_heads"] = 2;
  source["head_dim"] = 64;  // explicit and ≠ 256 / 8, as in Gemma-like configs
  CHECK(LlamaConfig::from_json(source, "x").head_dim == 64);
  source["head_dim"] = nullptr;
  CHECK(LlamaConfig::from_json(source, "x").head_dim == 32);
  source["num_attention_heads"] = 6;
  source["num_key_value_heads"] = 6;
  CHECK(error_of(source) ==
        "config 'cfg/config.json': no \"head_dim\", and hidden_size 256 is not a multiple of num_attention_heads 6");
}

TEST_CASE("invalid configs name the file and the key", "[config]") {
  json source = llama2_7b_config();
  source.erase("vocab_size");
  CHECK(error_of(source) == "config 'cfg/config.json': \"vocab_size\" is missing");
  source = llama2_7b_config();
  source["hidden_size"] = -4;
  CHECK(error_of(source) == "config 'cfg/config.json': \"hidden_size\" must be a positive integer, got -4");
  source = llama2_7b_config();
  source["num_key_value_heads"] = 5;
  CHECK(error_of(source) ==
        "config 'cfg/config.json': num_attention_heads 32 is not a multiple of num_key_value_heads 5");
  source = llama2_7b_config();
  source["torch_dtype"] = "int4";
  CHECK(error_of(source) ==
        "config 'cfg/config.json': \"torch_dtype\" is \"int4\"; expected \"float32\", \"float16\" or \"bfloat16\"");
  source = llama2_7b_config();
  source["attention_bias"] = true;
  CHECK_THAT(error_of(source), Catch::Contains("\"attention_bias\" is true"));
  CHECK_THROWS_WITH(LlamaConfig::load("/nonexistent/config.json"),
                    "cannot read config '/nonexistent/config.json'");
}

TEST_CASE("to_json keeps the source's form and its unknown keys", "[config]") {
  const LlamaConfig legacy = LlamaConfig::from_json(llama2_7b_config(), "x");
  const json legacy_out = legacy.to_json();
  CHECK(legacy_out["torch_dtype"] == "float16");
  CHECK_FALSE(legacy_out.contains("dtype"));
  CHECK_FALSE(legacy_out.contains("rope_parameters"));
  CHECK(legacy_out["head_dim"] == 128);
  CHECK(legacy_out["rope_theta"] == 10000.0);
  CHECK(legacy_out["transformers_version"] == "4.31.0.dev0");
  CHECK_FALSE(legacy_out.contains("compactmind_layers"));

  json with_theta = llama2_7b_config();
  with_theta["rope_theta"] = 1e6;
  CHECK(LlamaConfig::from_json(with_theta, "x").to_json()["rope_theta"] == 1e6);

  const LlamaConfig modern = LlamaConfig::load(fixtures_dir() / "models" / "tiny-llama2" / "config.json");
  const json modern_out = modern.to_json();
  CHECK(modern_out["dtype"] == "float16");
  CHECK(modern_out["rope_parameters"] == json{{"rope_theta", 10000.0}, {"rope_type", "default"}});
  CHECK_FALSE(modern_out.contains("torch_dtype"));
  CHECK(modern_out == modern.source);  // an unchanged config writes back unchanged

  // Made from scratch (a shape file with only the dims): the transformers-5 form.
  const json shape = {{"vocab_size", 64}, {"hidden_size", 32}, {"intermediate_size", 48},
                      {"num_hidden_layers", 2}, {"num_attention_heads", 4}};
  const json fresh = LlamaConfig::from_json(shape, "shape.json").to_json();
  CHECK(fresh["rope_parameters"]["rope_theta"] == 10000.0);
  CHECK(fresh["model_type"] == "llama");
  CHECK(fresh["architectures"] == json{"LlamaForCausalLM"});
  CHECK(fresh["num_key_value_heads"] == 4);
  CHECK(fresh["head_dim"] == 8);
}

TEST_CASE("per-layer dims round-trip through compactmind_layers", "[config]") {
  LlamaConfig config = LlamaConfig::load(fixtures_dir() / "models" / "tiny-llama2" / "config.json");
  config.layers[2] = LayerShape{6, 6, 512};
  config.layers[4] = LayerShape{4, 4, 700};
  CHECK_FALSE(config.is_uniform());
  const json written = config.to_json();
  REQUIRE(written["compactmind_layers"].size() == 6);
  CHECK(written["compactmind_layers"][4] ==
        json{{"num_attention_heads", 4}, {"num_key_value_heads", 4}, {"intermediate_size", 700}});
  CHECK(written["num_attention_heads"] == 8);  // the top level keeps the unpruned dims
  CHECK(written["intermediate_size"] == 768);
  const LlamaConfig reread = LlamaConfig::from_json(written, "x");
  CHECK(reread.layers == config.layers);
  CHECK(reread.head_dim == 32);

  // Pruned evenly: the standard form, no extension, loadable by any LLaMA reader.
  for (auto& layer : config.layers) layer = LayerShape{4, 4, 512};
  const json even = config.to_json();
  CHECK_FALSE(even.contains("compactmind_layers"));
  CHECK(even["num_attention_heads"] == 4);
  CHECK(even["intermediate_size"] == 512);
  CHECK(even["head_dim"] == 32);
  CHECK(LlamaConfig::from_json(even, "x").layers == config.layers);

  json bad = written;
  bad["compactmind_layers"].erase(5);
  CHECK(error_of(bad) == "config 'cfg/config.json': \"compactmind_layers\" must be a list of 6 layer objects (one "
                         "per decoder layer)");
  bad = written;
  bad["compactmind_layers"][3]["num_key_value_heads"] = 3;
  CHECK(error_of(bad) == "config 'cfg/config.json': compactmind_layers[3]: num_attention_heads 8 is not a multiple "
                         "of num_key_value_heads 3");
}

TEST_CASE("token ids: integers, lists (Llama-3), or null", "[config]") {
  json source = llama2_7b_config();
  source["eos_token_id"] = {128001, 128009};
  source["bos_token_id"] = nullptr;
  const LlamaConfig config = LlamaConfig::from_json(source, "x");
  CHECK(config.eos_token_id == 128001);
  CHECK(config.eos_token_ids == std::vector<int64_t>{128001, 128009});
  CHECK(config.is_eos(128009));
  CHECK_FALSE(config.is_eos(2));
  CHECK(config.bos_token_id == 1);
  CHECK(config.to_json()["eos_token_id"] == json{128001, 128009});
}
