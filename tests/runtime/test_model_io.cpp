// LlamaModel load/save against the fixture checkpoints.
#include "compactmind/llama_model.h"
#include "compactmind/safetensors.h"

#include "io_test_support.h"

#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <fstream>

using namespace compactmind;
using compactmind::test::fixtures_dir;
using compactmind::test::model_dir;
using compactmind::testing::model_tensors;
using compactmind::test::TempDir;
namespace fs = std::filesystem;

namespace {


// Every tensor of `model` equals the checkpoint's stored value upcast to float32, bit for bit.
void require_equals_checkpoint(const LlamaModel& model, const fs::path& dir) {
  const auto checkpoint = SafetensorsReader::open(dir);
  const auto tensors = model_tensors(model);
  for (const auto& [name, tensor] : tensors) {
    INFO(name);
    REQUIRE(tensor.scalar_type() == at::kFloat);
    REQUIRE(at::equal(tensor, checkpoint.view(name).to(at::kFloat)));
  }
  if (model.lm_head) REQUIRE(tensors.size() == checkpoint.names().size());
}

void require_same_tensors(const LlamaModel& a, const LlamaModel& b) {
  const auto tensors_a = model_tensors(a);
  const auto tensors_b = model_tensors(b);
  REQUIRE(tensors_a.size() == tensors_b.size());
  for (const auto& [name, tensor] : tensors_a) {
    INFO(name);
    REQUIRE(at::equal(tensor, tensors_b.at(name)));
  }
}

// A copy of a fixture model folder whose single safetensors file is rewritten by `edit`.
void write_edited_copy(const fs::path& source, const fs::path& target,
                       const std::function<void(std::vector<SafetensorsEntry>&)>& edit) {
  fs::create_directories(target);
  fs::copy_file(source / "config.json", target / "config.json");
  const auto checkpoint = SafetensorsReader::open(source);
  std::vector<SafetensorsEntry> entries;
  for (const auto& name : checkpoint.names())
    entries.push_back(safetensors_entry(name, checkpoint.view(name), checkpoint.info(name).dtype));
  edit(entries);
  write_safetensors_file(target / "model.safetensors", entries);
}

std::string load_error(const fs::path& dir) {
  try {
    LlamaModel::load(dir);
  } catch (const std::exception& error) {
    return error.what();
  }
  return "(no error)";
}

// A layer whose state holds an int64 tensor, which safetensors checkpoints here cannot store: makes a
// sharded save fail after its first shards are written.
class FailingLinear final : public Linear {
 public:
  explicit FailingLinear(const Linear& shape) : in_(shape.in_features()), out_(shape.out_features()) {}
  at::Tensor forward(const at::Tensor& input) const override { return input; }
  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }
  std::vector<std::pair<std::string, at::Tensor>> state() const override {
    return {{"weight", at::zeros({out_, in_})}, {"weight_scale", at::zeros({out_}, at::kShort)}};
  }
  int64_t stored_bytes(at::ScalarType) const override { return 0; }
  std::unique_ptr<Linear> clone() const override { return std::make_unique<FailingLinear>(*this); }
  std::string kind() const override { return "failing"; }
  at::Tensor dense_weight() const override { return at::zeros({out_, in_}); }

 private:
  int64_t in_, out_;
};

}  // namespace

TEST_CASE("tiny-llama2 (f16, 3 shards) loads as the file's values in float32", "[model_io]") {
  const LlamaModel model = LlamaModel::load(model_dir("tiny-llama2"));
  CHECK(model.config.num_hidden_layers == 6);
  CHECK(model.config.storage_dtype == "float16");
  REQUIRE(model.layers.size() == 6);
  REQUIRE(model.lm_head != nullptr);
  CHECK(model.layers[0].q_proj->out_features() == 256);
  CHECK(model.layers[0].gate_proj->out_features() == 768);
  CHECK(model.layers[5].shape == LayerShape{8, 8, 768});
  CHECK(model.source_dir == model_dir("tiny-llama2"));
  require_equals_checkpoint(model, model_dir("tiny-llama2"));
  // The index's own totals (written by transformers) for parameters and f16 bytes.
  CHECK(model.parameter_count() == 7212288);
  CHECK(model.stored_bytes(at::kHalf) == 14424576);
  CHECK(model.stored_bytes(at::kFloat) == 2 * 14424576);
}

TEST_CASE("tiny-gqa (bf16, one file, tied) loads with grouped key/value heads and no lm_head", "[model_io]") {
  const LlamaModel model = LlamaModel::load(model_dir("tiny-gqa"));
  CHECK(model.config.storage_dtype == "bfloat16");
  CHECK(model.config.tie_word_embeddings);
  CHECK(model.lm_head == nullptr);
  REQUIRE(model.layers.size() == 4);
  CHECK(model.layers[2].k_proj->out_features() == 2 * 32);
  CHECK(model.layers[2].v_proj->out_features() == 2 * 32);
  CHECK(model.layers[2].q_proj->out_features() == 8 * 32);
  require_equals_checkpoint(model, model_dir("tiny-gqa"));
  const auto names = model.named_linears();
  REQUIRE(names.size() == 4 * 7);
  CHECK(names.front().first == "model.layers.0.self_attn.q_proj");
  CHECK(names.back().first == "model.layers.3.mlp.down_proj");
}

TEST_CASE("a missing tensor is named with the file", "[model_io]") {
  TempDir scratch("missing");
  write_edited_copy(model_dir("tiny-gqa"), scratch.path(), [](auto& entries) {
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [](auto& e) { return e.name == "model.layers.1.mlp.up_proj.weight"; }),
                  entries.end());
  });
  CHECK(load_error(scratch.path()) == "checkpoint '" + (scratch.path() / "model.safetensors").string() +
                                          "' has no tensor 'model.layers.1.mlp.up_proj.weight', which the model "
                                          "needs (intermediate_size 768, hidden_size 256)");
}

TEST_CASE("a mis-shaped tensor is named with the file and both shapes", "[model_io]") {
  TempDir scratch("misshaped");
  write_edited_copy(model_dir("tiny-gqa"), scratch.path(), [](auto& entries) {
    for (auto& entry : entries)
      if (entry.name == "model.layers.2.self_attn.k_proj.weight")
        entry = safetensors_entry(entry.name, at::zeros({128, 256}), at::kBFloat16);
  });
  CHECK(load_error(scratch.path()) ==
        "tensor 'model.layers.2.self_attn.k_proj.weight' in '" + (scratch.path() / "model.safetensors").string() +
            "': shape [128,256], but config.json implies [64,256] (num_key_value_heads 2 × head_dim 32, "
            "hidden_size 256)");

  TempDir norm_scratch("misshaped-norm");
  write_edited_copy(model_dir("tiny-gqa"), norm_scratch.path(), [](auto& entries) {
    for (auto& entry : entries)
      if (entry.name == "model.norm.weight") entry = safetensors_entry(entry.name, at::ones({255}), at::kBFloat16);
  });
  CHECK_THAT(load_error(norm_scratch.path()),
             Catch::Contains("tensor 'model.norm.weight'") && Catch::Contains("shape [255], but config.json implies [256]"));
}

TEST_CASE("an untied model without lm_head.weight is refused", "[model_io]") {
  TempDir scratch("no-lm-head");
  write_edited_copy(model_dir("tiny-gqa"), scratch.path(), [](auto&) {});
  auto config = nlohmann::json::parse(std::ifstream(scratch.path() / "config.json"));
  config["tie_word_embeddings"] = false;
  fs::remove(scratch.path() / "config.json");
  std::ofstream(scratch.path() / "config.json") << config.dump();
  CHECK(load_error(scratch.path()) ==
        "checkpoint '" + (scratch.path() / "model.safetensors").string() +
            "' has no tensor 'lm_head.weight', and config.json says tie_word_embeddings is false, so the model "
            "needs one");
}

TEST_CASE("pickle checkpoints are refused with the reason and the way out", "[model_io]") {
  TempDir scratch("pickle");
  fs::copy_file(model_dir("tiny-llama2") / "config.json", scratch.path() / "config.json");
  std::ofstream(scratch.path() / "pytorch_model.bin") << "not really a pickle";
  const std::string message = load_error(scratch.path());
  CHECK_THAT(message, Catch::StartsWith("'" + (scratch.path() / "pytorch_model.bin").string() +
                                        "' is a PyTorch pickle checkpoint"));
  CHECK_THAT(message, Catch::Contains("unpickling can execute arbitrary code"));
  CHECK_THAT(message, Catch::Contains("save_pretrained(OUT, safe_serialization=True)"));
  CHECK_THROWS_WITH(SafetensorsReader::open(scratch.path() / "pytorch_model.bin"),
                    Catch::Contains("is a PyTorch pickle checkpoint"));
}

TEST_CASE("save then load gives identical tensors, sharded and unsharded", "[model_io]") {
  const LlamaModel model = LlamaModel::load(model_dir("tiny-llama2"));
  TempDir scratch("save");
  SaveOptions sharded;
  sharded.max_shard_bytes = 4 << 20;  // 14 MB of f16 → 4 shards
  model.save(scratch / "sharded", sharded);
  CHECK(fs::exists(scratch / "sharded" / "model.safetensors.index.json"));
  CHECK(fs::exists(scratch / "sharded" / "model-00004-of-00004.safetensors"));
  CHECK(fs::exists(scratch / "sharded" / "tokenizer.model"));
  CHECK(fs::exists(scratch / "sharded" / "tokenizer_config.json"));
  CHECK(fs::exists(scratch / "sharded" / "generation_config.json"));
  const LlamaModel reloaded = LlamaModel::load(scratch / "sharded");
  // f16 values survive an f16 save exactly.
  require_same_tensors(model, reloaded);
  CHECK(reloaded.config.to_json() == model.config.to_json());

  model.save(scratch / "single", SaveOptions{at::kFloat});
  CHECK(fs::exists(scratch / "single" / "model.safetensors"));
  CHECK(LlamaModel::load(scratch / "single").config.storage_dtype == "float32");
  require_same_tensors(model, LlamaModel::load(scratch / "single"));

  // A tied model stays tied.
  const LlamaModel gqa = LlamaModel::load(model_dir("tiny-gqa"));
  gqa.save(scratch / "gqa", SaveOptions{at::kBFloat16});
  const LlamaModel gqa_reloaded = LlamaModel::load(scratch / "gqa");
  CHECK(gqa_reloaded.lm_head == nullptr);
  require_same_tensors(gqa, gqa_reloaded);
  CHECK_FALSE(SafetensorsReader::open(scratch / "gqa").contains("lm_head.weight"));
}

TEST_CASE("a model saved in bf16 reloads within bf16 precision", "[model_io]") {
  const LlamaModel model = LlamaModel::load(model_dir("tiny-llama2"));
  TempDir scratch("bf16");
  model.save(scratch / "bf16", SaveOptions{at::kBFloat16});
  const LlamaModel reloaded = LlamaModel::load(scratch / "bf16");
  CHECK(reloaded.config.storage_dtype == "bfloat16");
  const auto original = model_tensors(model);
  bool any_rounded = false;
  for (const auto& [name, tensor] : model_tensors(reloaded)) {
    INFO(name);
    // bf16 keeps 8 significant bits: round-to-nearest errs by at most half an ulp, 2^-8 relative.
    const at::Tensor error = (tensor - original.at(name)).abs();
    REQUIRE(at::le(error, original.at(name).abs() * (1.0 / 256)).all().item<bool>());
    any_rounded = any_rounded || error.max().item<float>() > 0;
  }
  CHECK(any_rounded);  // f16 → bf16 really lost bits, so the bound above was exercised
}

TEST_CASE("per-layer shapes survive save and load through the config extension", "[model_io]") {
  LlamaModel model = LlamaModel::load(model_dir("tiny-llama2"));
  // Prune layer 1 to 6 heads and 512 MLP channels, as structured pruning would.
  auto& layer = model.layers[1];
  for (auto* linear : {layer.q_proj.get(), layer.k_proj.get(), layer.v_proj.get()}) {
    auto& dense = as_dense(*linear, "test");
    dense.weight = dense.weight.slice(0, 0, 6 * 32).clone();
  }
  as_dense(*layer.o_proj, "test").weight = as_dense(*layer.o_proj, "test").weight.slice(1, 0, 6 * 32).clone();
  for (auto* linear : {layer.gate_proj.get(), layer.up_proj.get()})
    as_dense(*linear, "test").weight = as_dense(*linear, "test").weight.slice(0, 0, 512).clone();
  as_dense(*layer.down_proj, "test").weight = as_dense(*layer.down_proj, "test").weight.slice(1, 0, 512).clone();

  TempDir scratch("pruned");
  model.save(scratch / "pruned");
  const auto config = nlohmann::json::parse(std::ifstream(scratch / "pruned" / "config.json"));
  REQUIRE(config.contains("compactmind_layers"));
  CHECK(config["compactmind_layers"][1] ==
        nlohmann::json{{"num_attention_heads", 6}, {"num_key_value_heads", 6}, {"intermediate_size", 512}});
  CHECK(config["num_attention_heads"] == 8);
  const LlamaModel reloaded = LlamaModel::load(scratch / "pruned");
  CHECK(reloaded.layers[1].shape == LayerShape{6, 6, 512});
  CHECK(reloaded.layers[0].shape == LayerShape{8, 8, 768});
  require_same_tensors(model, reloaded);
}

TEST_CASE("a failed save leaves no partial folder and keeps the previous one", "[model_io]") {
  LlamaModel model = LlamaModel::load(model_dir("tiny-gqa"));
  TempDir scratch("atomic");
  model.save(scratch / "out", SaveOptions{at::kBFloat16});
  const auto before = fs::last_write_time(scratch / "out" / "model.safetensors");

  model.layers[3].down_proj = std::make_unique<FailingLinear>(*model.layers[3].down_proj);
  SaveOptions small_shards;
  small_shards.max_shard_bytes = 1 << 20;
  small_shards.overwrite = true;
  CHECK_THROWS_WITH(model.save(scratch / "out", small_shards), Catch::Contains("cannot store dtype Short"));
  CHECK_THROWS(model.save(scratch / "fresh", small_shards));
  CHECK_FALSE(fs::exists(scratch / "fresh"));
  // Only the earlier, complete save remains: no temporary sibling is left behind.
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(scratch.path())) entries.push_back(entry.path().filename());
  CHECK(entries == std::vector<std::string>{"out"});
  CHECK(fs::last_write_time(scratch / "out" / "model.safetensors") == before);
  require_same_tensors(LlamaModel::load(scratch / "out"), LlamaModel::load(model_dir("tiny-gqa")));
}

TEST_CASE("saving refuses to replace a folder that is not a model", "[model_io]") {
  const LlamaModel model = LlamaModel::load(model_dir("tiny-gqa"));
  TempDir scratch("not-a-model");
  fs::create_directories(scratch / "notes");
  std::ofstream(scratch / "notes" / "todo.txt") << "keep me";
  CHECK_THROWS_WITH(model.save(scratch / "notes"),
                    "cannot save a model to '" + (scratch / "notes").string() +
                        "': the folder exists and is not empty; choose another folder, or pass --overwrite to "
                        "replace the model saved there");
  SaveOptions overwrite;
  overwrite.overwrite = true;
  CHECK_THROWS_WITH(model.save(scratch / "notes", overwrite),
                    "cannot save a model to '" + (scratch / "notes").string() +
                        "': --overwrite replaces only a model folder, and this one has no config.json");
  CHECK(fs::exists(scratch / "notes" / "todo.txt"));
}

TEST_CASE("clone is deep and trainable_parameters covers every float tensor", "[model_io]") {
  const LlamaModel model = LlamaModel::load(model_dir("tiny-gqa"));
  LlamaModel copy = model.clone();
  require_same_tensors(model, copy);
  as_dense(*copy.layers[0].q_proj, "test").weight.add_(1.0);
  copy.embed_tokens.add_(1.0);
  copy.layers[1].input_layernorm.add_(1.0);
  require_equals_checkpoint(model, model_dir("tiny-gqa"));

  const auto parameters = copy.trainable_parameters();
  int64_t numel = 0;
  for (const auto& tensor : parameters) numel += tensor.numel();
  CHECK(numel == copy.parameter_count());
  CHECK(parameters.size() == 1 + 2 * 4 + 1 + 4 * 7);
  CHECK_THROWS_WITH(as_dense(FailingLinear(*copy.layers[0].q_proj), "model.layers.0.self_attn.q_proj"),
                    "model.layers.0.self_attn.q_proj is a 'failing' linear, but this step needs float (dense) "
                    "weights: run it before quantization");
}

namespace {

at::Tensor test_ids() {
  at::Generator generator = at::detail::createCPUGenerator(11);
  at::Tensor ids = at::randint(3, 4096, {2, 48}, generator, at::kLong);
  ids.index_put_({at::indexing::Slice(), 0}, 1);  // BOS first, as in evaluation
  return ids;
}

}  // namespace

TEST_CASE("save then reload gives identical logits", "[model_io][logits]") {
  const at::Tensor ids = test_ids();
  TempDir scratch("logits");
  for (const char* name : {"tiny-llama2", "tiny-gqa"}) {
    INFO(name);
    const LlamaModel model = LlamaModel::load(model_dir(name));
    // Each fixture in its own storage dtype, so the saved values are the loaded ones.
    const at::ScalarType dtype = model.config.storage_dtype == "bfloat16" ? at::kBFloat16 : at::kHalf;
    model.save(scratch / name, SaveOptions{dtype});
    const LlamaModel reloaded = LlamaModel::load(scratch / name);
    CHECK(at::equal(model.forward(ids), reloaded.forward(ids)));
  }
}

TEST_CASE("a pruned model's logits survive save and reload", "[model_io][logits]") {
  LlamaModel model = LlamaModel::load(model_dir("tiny-gqa"));
  // Layer 2 keeps one key/value group (4 query heads) and 600 MLP channels.
  auto& layer = model.layers[2];
  auto keep_rows = [](Linear& linear, int64_t rows) {
    auto& dense = as_dense(linear, "test");
    dense.weight = dense.weight.slice(0, 0, rows).clone();
  };
  auto keep_columns = [](Linear& linear, int64_t columns) {
    auto& dense = as_dense(linear, "test");
    dense.weight = dense.weight.slice(1, 0, columns).clone();
  };
  keep_rows(*layer.q_proj, 4 * 32);
  keep_rows(*layer.k_proj, 32);
  keep_rows(*layer.v_proj, 32);
  keep_columns(*layer.o_proj, 4 * 32);
  keep_rows(*layer.gate_proj, 600);
  keep_rows(*layer.up_proj, 600);
  keep_columns(*layer.down_proj, 600);
  layer.shape = LayerShape{4, 1, 600};

  TempDir scratch("pruned-logits");
  model.save(scratch / "pruned", SaveOptions{at::kBFloat16});
  const LlamaModel reloaded = LlamaModel::load(scratch / "pruned");
  CHECK(reloaded.layers[2].shape == LayerShape{4, 1, 600});
  const at::Tensor ids = test_ids();
  CHECK(at::equal(model.forward(ids), reloaded.forward(ids)));
}

TEST_CASE("tiny-llama2 saved in bf16 predicts like the f16 original", "[model_io][logits]") {
  const LlamaModel model = LlamaModel::load(model_dir("tiny-llama2"));
  TempDir scratch("bf16-logits");
  model.save(scratch / "bf16", SaveOptions{at::kBFloat16});
  const at::Tensor ids = test_ids();
  const at::Tensor logits = model.forward(ids);
  const at::Tensor bf16_logits = LlamaModel::load(scratch / "bf16").forward(ids);
  const double scale = logits.abs().max().item<double>();
  const double max_error = (logits - bf16_logits).abs().max().item<double>();
  const double agreement = (logits.argmax(-1) == bf16_logits.argmax(-1)).to(at::kFloat).mean().item<double>();
  INFO("max |logit| " << scale << ", max error " << max_error << ", top-1 agreement " << agreement);
  // Each weight moves by ≤ 2^-8 relative and the errors partly cancel in the dot products; measured
  // here: max error 0.037 on logits up to 14.0 (0.27%), top-1 agreement 97.9% over 96 positions.
  CHECK(max_error > 0);
  CHECK(max_error < 0.01 * scale);
  CHECK(agreement >= 0.95);
}
