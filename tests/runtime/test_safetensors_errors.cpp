// Safetensors reading and writing: one crafted file per header violation, each message asserted.
#include "compactmind/safetensors.h"

#include "io_test_support.h"

#include <catch2/catch.hpp>

#include <fstream>

using namespace compactmind;
using compactmind::test::fixtures_dir;
using compactmind::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A file with `header` as its JSON header, declared length `declared_length` (default: the real one),
// followed by `data_bytes` zero bytes.
fs::path write_raw(const fs::path& path, const std::string& header, size_t data_bytes,
                   int64_t declared_length = -1) {
  std::ofstream stream(path, std::ios::binary);
  const uint64_t length = declared_length < 0 ? header.size() : uint64_t(declared_length);
  stream.write(reinterpret_cast<const char*>(&length), 8);
  stream << header << std::string(data_bytes, '\0');
  return path;
}

std::string open_error(const fs::path& path) {
  try {
    SafetensorsReader::open(path);
  } catch (const std::exception& error) {
    return error.what();
  }
  return "(no error)";
}

std::string tensor_prefix(const std::string& tensor, const fs::path& file) {
  return "tensor '" + tensor + "' in '" + file.string() + "': ";
}

}  // namespace

TEST_CASE("a file too short for the header length", "[safetensors]") {
  TempDir scratch("st-short");
  const fs::path file = scratch / "model.safetensors";
  std::ofstream(file) << "abc";
  CHECK(open_error(file) ==
        "safetensors file '" + file.string() + "': only 3 bytes long, too short for the 8-byte header length");
}

TEST_CASE("a header length past the end of the file", "[safetensors]") {
  TempDir scratch("st-past-end");
  const auto file = write_raw(scratch / "model.safetensors", "{}", 0, 4000);
  CHECK(open_error(file) == "safetensors file '" + file.string() +
                                "': the header length 4000 reaches past the end of the file (10 bytes): the file "
                                "is truncated or not safetensors");
}

TEST_CASE("a header length over the bound", "[safetensors]") {
  TempDir scratch("st-bound");
  const auto file = write_raw(scratch / "model.safetensors", "{}", 0, int64_t(1) << 40);
  CHECK(open_error(file) == "safetensors file '" + file.string() +
                                "': the header length 1099511627776 exceeds the limit of 100000000 bytes: not a "
                                "safetensors file, or corrupt");
}

TEST_CASE("a header that is not JSON, or not an object", "[safetensors]") {
  TempDir scratch("st-json");
  const auto broken = write_raw(scratch / "broken.safetensors", "{\"w\": {\"dtype\": ", 0);
  CHECK_THAT(open_error(broken),
             Catch::StartsWith("safetensors file '" + broken.string() + "': the header is not valid JSON ("));
  const auto array = write_raw(scratch / "array.safetensors", "[1, 2]", 0);
  CHECK(open_error(array) == "safetensors file '" + array.string() + "': the header is not a JSON object");
}

TEST_CASE("unknown and unsupported dtypes", "[safetensors]") {
  TempDir scratch("st-dtype");
  const auto unknown = write_raw(scratch / "unknown.safetensors",
                                 R"({"w": {"dtype": "Q4_K", "shape": [2], "data_offsets": [0, 2]}})", 2);
  CHECK(open_error(unknown) == tensor_prefix("w", unknown) + "dtype 'Q4_K' is not a safetensors dtype");
  const auto f64 = write_raw(scratch / "f64.safetensors",
                             R"({"w": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}})", 16);
  CHECK(open_error(f64) ==
        tensor_prefix("w", f64) + "dtype F64 is not supported (CompactMind reads F32, F16, BF16, I8, I32, I64)");
  const auto missing = write_raw(scratch / "missing.safetensors", R"({"w": {"shape": [2], "data_offsets": [0, 8]}})", 8);
  CHECK(open_error(missing) == tensor_prefix("w", missing) + "the header gives no \"dtype\" string");
}

TEST_CASE("shape × dtype size differs from the byte range", "[safetensors]") {
  TempDir scratch("st-size");
  const auto file = write_raw(
      scratch / "model-00002-of-00003.safetensors",
      R"({"model.layers.3.mlp.up_proj.weight": {"dtype": "F16", "shape": [768, 256], "data_offsets": [0, 131072]}})",
      131072);
  CHECK(open_error(file) == tensor_prefix("model.layers.3.mlp.up_proj.weight", file) +
                                "shape [768,256] × F16 needs 393216 bytes, the header gives 131072");
  const auto negative = write_raw(scratch / "negative.safetensors",
                                  R"({"w": {"dtype": "F32", "shape": [-2, 2], "data_offsets": [0, 16]}})", 16);
  CHECK(open_error(negative) ==
        tensor_prefix("w", negative) + "shape [-2,2] holds something other than non-negative integers");
  // A product that wraps around 64 bits must not pass for a small size.
  const auto wrapping = write_raw(
      scratch / "wrapping.safetensors",
      R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})", 0);
  CHECK(open_error(wrapping) == tensor_prefix("w", wrapping) + "shape [4611686018427387904,4] is too large");
}

TEST_CASE("data offsets outside the data section, reversed or malformed", "[safetensors]") {
  TempDir scratch("st-offsets");
  const auto past = write_raw(scratch / "past.safetensors",
                              R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})", 16);
  CHECK(open_error(past) == tensor_prefix("w", past) +
                                "data_offsets [8,24] reach past the end of the data section (16 bytes): the file is "
                                "truncated or the header is wrong");
  const auto reversed = write_raw(scratch / "reversed.safetensors",
                                  R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", 16);
  CHECK(open_error(reversed) == tensor_prefix("w", reversed) + "data_offsets [8,4] end before they begin");
  const auto malformed = write_raw(scratch / "malformed.safetensors",
                                   R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0]}})", 16);
  CHECK(open_error(malformed) ==
        tensor_prefix("w", malformed) + "the header gives no \"data_offsets\" [begin, end] of non-negative integers");
}

TEST_CASE("overlapping byte ranges", "[safetensors]") {
  TempDir scratch("st-overlap");
  const auto file = write_raw(scratch / "model.safetensors",
                              R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                  "b": {"dtype": "F16", "shape": [4], "data_offsets": [12, 20]}})",
                              24);
  CHECK(open_error(file) == tensor_prefix("b", file) + "bytes [12,20) overlap tensor 'a' [0,16)");
}

TEST_CASE("__metadata__ is allowed when it is an object of strings", "[safetensors]") {
  TempDir scratch("st-metadata");
  const auto good = write_raw(scratch / "good.safetensors",
                              R"({"__metadata__": {"format": "pt"},
                                  "w": {"dtype": "I32", "shape": [2, 2], "data_offsets": [0, 16]}})",
                              16);
  const auto reader = SafetensorsReader::open(good);
  CHECK(reader.names() == std::vector<std::string>{"w"});
  CHECK(reader.files()[0]->metadata().at("format") == "pt");
  CHECK(at::equal(reader.view("w"), at::zeros({2, 2}, at::kInt)));
  const auto bad = write_raw(scratch / "bad.safetensors", R"({"__metadata__": {"format": 1}})", 0);
  CHECK(open_error(bad) == "safetensors file '" + bad.string() + "': \"__metadata__\" entry 'format' is not a string");
}

TEST_CASE("shard index errors name the index and the tensor", "[safetensors]") {
  TempDir scratch("st-index");
  write_safetensors_file(scratch / "shard-a.safetensors", {safetensors_entry("a", at::ones({3}), at::kFloat)});
  const fs::path index = scratch / "model.safetensors.index.json";
  auto write_index = [&](const std::string& text) {
    fs::remove(index);
    std::ofstream(index) << text;
  };
  write_index(R"({"weight_map": {"a": "shard-a.safetensors", "b": "shard-b.safetensors"}})");
  CHECK(open_error(scratch.path()) == "shard index '" + index.string() +
                                          "' lists shard 'shard-b.safetensors' (for tensor 'b'), which does not exist");
  write_index(R"({"weight_map": {"a": "shard-a.safetensors", "c": "shard-a.safetensors"}})");
  CHECK(open_error(scratch.path()) == "shard index '" + index.string() + "' puts tensor 'c' in '" +
                                          (scratch / "shard-a.safetensors").string() + "', which has no such tensor");
  write_index(R"({"weight_map": {"a": "../elsewhere/shard-a.safetensors"}})");
  CHECK(open_error(scratch.path()) == "shard index '" + index.string() +
                                          "': shard '../elsewhere/shard-a.safetensors' of tensor 'a' is not a file "
                                          "name in the model folder");
  write_index(R"({"metadata": {}})");
  CHECK(open_error(scratch.path()) == "shard index '" + index.string() + "' has no \"weight_map\" object");
  write_index("{not json");
  CHECK_THAT(open_error(scratch.path()), Catch::StartsWith("shard index '" + index.string() + "' is not valid JSON"));
  write_index(R"({"weight_map": {"a": "shard-a.safetensors"}})");
  CHECK(at::equal(SafetensorsReader::open(scratch.path()).view("a"), at::ones({3})));
}

TEST_CASE("a folder without safetensors, or with only a pickle", "[safetensors]") {
  TempDir scratch("st-empty");
  CHECK(open_error(scratch.path()) == "model folder '" + scratch.path().string() +
                                          "' holds neither model.safetensors nor model.safetensors.index.json");
  std::ofstream(scratch / "pytorch_model.bin") << "pickle";
  CHECK_THAT(open_error(scratch.path()),
             Catch::StartsWith("'" + (scratch / "pytorch_model.bin").string() +
                               "' is a PyTorch pickle checkpoint; CompactMind does not read pickles because "
                               "unpickling can execute arbitrary code. Convert it to safetensors first"));
  std::ofstream(scratch / "model.pt") << "pickle";
  CHECK_THAT(open_error(scratch / "model.pt"), Catch::Contains("is a PyTorch pickle checkpoint"));
}

TEST_CASE("every supported dtype round-trips through the writer, data 8-byte aligned", "[safetensors]") {
  TempDir scratch("st-roundtrip");
  const at::Tensor values = at::arange(-6, 6, at::kFloat).reshape({3, 4}) * 0.75;
  std::vector<SafetensorsEntry> entries;
  for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16})
    entries.push_back(safetensors_entry(std::string("float_") + c10::toString(dtype), values, dtype));
  entries.push_back(safetensors_entry("int8", at::arange(-128, 128, at::kChar), at::kChar));
  entries.push_back(safetensors_entry("int32", at::arange(-5, 5, at::kInt) * 100000, at::kInt));
  entries.push_back(safetensors_entry("scalar", at::full({}, 3.5), at::kFloat));
  entries.push_back(safetensors_entry("empty", at::zeros({0, 4}), at::kHalf));
  const fs::path file = scratch / "all.safetensors";
  write_safetensors_file(file, entries);
  CHECK_FALSE(fs::exists(scratch / "all.safetensors.tmp"));

  uint64_t header_bytes = 0;
  std::ifstream(file, std::ios::binary).read(reinterpret_cast<char*>(&header_bytes), 8);
  CHECK(header_bytes % 8 == 0);

  const auto reader = SafetensorsReader::open(file);
  CHECK(reader.info("float_Half").dtype_name == "F16");
  CHECK(reader.info("float_BFloat16").dtype_name == "BF16");
  for (const char* name : {"float_Float", "float_Half", "float_BFloat16"}) {
    INFO(name);
    CHECK(at::equal(reader.load(name, at::kFloat), values));  // multiples of 0.75 are exact in all three
  }
  CHECK(reader.view("float_Half").scalar_type() == at::kHalf);
  CHECK(at::equal(reader.view("int8"), at::arange(-128, 128, at::kChar)));
  CHECK(at::equal(reader.view("int32"), at::arange(-5, 5, at::kInt) * 100000));
  CHECK(reader.view("scalar").dim() == 0);
  CHECK(reader.view("scalar").item<float>() == 3.5f);
  CHECK(reader.view("empty").sizes() == at::IntArrayRef({0, 4}));
  // load() is a private copy that may be modified; the file is untouched.
  at::Tensor loaded = reader.load("float_Float", at::kFloat);
  loaded.add_(1.0);
  CHECK(at::equal(reader.view("float_Float"), values));
  CHECK_THROWS_WITH(reader.info("nope"), "checkpoint '" + file.string() + "' has no tensor 'nope'");
  CHECK_THROWS_WITH(write_safetensors_file(scratch / "short.safetensors",
                                           {safetensors_entry("s", at::zeros({2}, at::kShort), at::kShort)}),
                    "cannot store dtype Short in safetensors (CompactMind writes F32, F16, BF16, I8, I32, I64)");
  CHECK_FALSE(fs::exists(scratch / "short.safetensors"));
}

TEST_CASE("sharded writing produces shards and an index the reader follows", "[safetensors]") {
  TempDir scratch("st-shards");
  std::vector<SafetensorsEntry> entries;
  for (int i = 0; i < 5; ++i)
    entries.push_back(safetensors_entry("t" + std::to_string(i), at::full({256}, float(i)), at::kFloat));
  const auto names = write_safetensors_checkpoint(scratch.path(), entries, 2048);  // 1 KB each → 3 shards
  CHECK(names == std::vector<std::string>{"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                                          "model-00003-of-00003.safetensors", "model.safetensors.index.json"});
  const auto index = nlohmann::json::parse(std::ifstream(scratch / "model.safetensors.index.json"));
  CHECK(index["metadata"]["total_size"] == 5 * 1024);
  CHECK(index["weight_map"]["t4"] == "model-00003-of-00003.safetensors");
  const auto reader = SafetensorsReader::open(scratch.path());
  CHECK(reader.files().size() == 3);
  for (int i = 0; i < 5; ++i) CHECK(at::equal(reader.view("t" + std::to_string(i)), at::full({256}, float(i))));

  TempDir single("st-single");
  CHECK(write_safetensors_checkpoint(single.path(), entries, 1 << 20) == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("the fixture shards open through their index", "[safetensors]") {
  const auto reader = SafetensorsReader::open(fixtures_dir() / "models" / "tiny-llama2");
  CHECK(reader.files().size() == 3);
  CHECK(reader.names().size() == 1 + 6 * 9 + 2);
  const auto& info = reader.info("model.layers.3.mlp.up_proj.weight");
  CHECK(info.dtype_name == "F16");
  CHECK(info.shape == std::vector<int64_t>{768, 256});
  CHECK(reader.path() == fixtures_dir() / "models" / "tiny-llama2" / "model.safetensors.index.json");
}
