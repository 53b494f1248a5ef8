// The tokenizer.json tokenizer (byte-level BPE) against models/tiny-llama3's references: the token
// streams of test.txt and valid.txt (count, first ids, sha256 of the int32-LE ids) and the 40 cases of
// tiny-llama3.tokenizer_cases.json (ids as tokenizers.js gives them, decoding back to the text).
#include "fixtures.h"
#include "support/temp_dir.h"

#include "compactmind/sha256.h"
#include "compactmind/text_data.h"
#include "compactmind/tokenizer.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <vector>

using namespace compactmind;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const json& llama3_reference() {
  static const json reference = test::read_json(test::fixtures_dir() / "reference" / "tiny-llama3.json");
  return reference;
}

std::string sha256_int32le(const at::Tensor& ids) {
  std::vector<uint8_t> bytes;
  bytes.reserve(size_t(ids.numel()) * 4);
  const int64_t* data = ids.data_ptr<int64_t>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<uint8_t>(uint32_t(data[i]) >> shift));
  return sha256_hex(bytes.data(), bytes.size());
}

void check_stream(const Tokenizer& tokenizer, const fs::path& text, const std::string& prefix) {
  const TokenStream stream = tokenize_file(tokenizer, text, tokenizer.add_bos_token());
  const json& tokens = llama3_reference()["tokens"];
  REQUIRE(stream.ids.numel() == tokens[prefix + "_count"].get<int64_t>());
  const int64_t* ids = stream.ids.data_ptr<int64_t>();
  CHECK(std::vector<int64_t>(ids, ids + 64) == tokens[prefix + "_first64"].get<std::vector<int64_t>>());
  CHECK(sha256_int32le(stream.ids) == tokens[prefix + "_sha256_int32le"].get<std::string>());
  CHECK((stream.ids == 128000).sum().item<int64_t>() == 1);  // the BOS, once, at index 0
}

// A temporary model folder holding one tokenizer.json.
struct TokenizerFolder {
  compactmind::test::TempDir scratch{"tokenizer-json"};
  fs::path dir = scratch.path();
  explicit TokenizerFolder(const json& tokenizer) { std::ofstream(dir / "tokenizer.json") << tokenizer.dump(); }
};

// A small byte-level BPE: bytes 'a', 'b', 'Ġ' (space), merges a+b and Ġ+ab.
json small_tokenizer() {
  return {{"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"Ġ", 2}, {"ab", 3}, {"Ġab", 4}}},
                     {"merges", {"a b", "Ġ ab"}}}},
          {"added_tokens", json::array({{{"id", 5}, {"content", "<eos>"}, {"special", true}}})},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}}};
}

}  // namespace

TEST_CASE("tiny-llama3: tokenizer.json is chosen and gives the reference ids of test.txt", "[runtime][tokenizer_json]") {
  const Tokenizer tokenizer = Tokenizer::load(test::model_dir("tiny-llama3"));
  CHECK(tokenizer.kind() == TokenizerKind::tokenizer_json);
  CHECK(tokenizer.add_bos_token());  // from the TemplateProcessing post-processor
  CHECK(tokenizer.bos_id() == 128000);
  CHECK(tokenizer.eos_id() == 128001);
  CHECK(tokenizer.vocab_size() == 128256);
  check_stream(tokenizer, test::wikitext("test.txt"), "test");
}

TEST_CASE("tiny-llama3: valid.txt gives the reference ids", "[runtime][tokenizer_json]") {
  const Tokenizer tokenizer = Tokenizer::load(test::model_dir("tiny-llama3"), TokenizerKind::tokenizer_json);
  check_stream(tokenizer, test::wikitext("valid.txt"), "train");
}

TEST_CASE("tiny-llama3: every tokenizer case encodes to its ids and decodes back", "[runtime][tokenizer_json]") {
  const Tokenizer tokenizer = Tokenizer::load(test::model_dir("tiny-llama3"));
  const json cases = test::read_json(test::fixtures_dir() / "reference" / "tiny-llama3.tokenizer_cases.json");
  REQUIRE(cases.size() == 40);
  for (const json& entry : cases) {
    const std::string text = entry["text"].get<std::string>();
    INFO("case " << json(text).dump());
    const std::vector<int64_t> ids = tokenizer.encode(text);
    CHECK(ids == entry["ids"].get<std::vector<int64_t>>());
    CHECK(tokenizer.decode(ids) == text);
  }
}

TEST_CASE("the tokenizer kind: automatic, asked for, or missing", "[runtime][tokenizer_json]") {
  CHECK(Tokenizer::load(test::model_dir("tiny-llama2")).kind() == TokenizerKind::sentencepiece);
  CHECK(parse_tokenizer_kind("tokenizer.json") == TokenizerKind::tokenizer_json);
  CHECK(tokenizer_kind_name(parse_tokenizer_kind("auto")) == "auto");
  CHECK_THROWS_WITH(parse_tokenizer_kind("bpe"),
                    "unknown tokenizer kind 'bpe': expected auto, sentencepiece or tokenizer.json");
  const fs::path llama2 = test::model_dir("tiny-llama2");
  CHECK_THROWS_WITH(Tokenizer::load(llama2, TokenizerKind::tokenizer_json),
                    "no tokenizer in '" + llama2.string() + "': 'tokenizer.json' (tokenizer.json, as asked) is missing");
}

TEST_CASE("a small byte-level BPE: merges by rank, added tokens, byte round trip", "[runtime][tokenizer_json]") {
  const TokenizerFolder folder(small_tokenizer());
  const Tokenizer tokenizer = Tokenizer::load(folder.dir);
  CHECK_FALSE(tokenizer.add_bos_token());  // no post-processor: nothing in front
  CHECK(tokenizer.vocab_size() == 6);
  // "ab ab" → "ab", "Ġab"; "<eos>" is matched whole before pre-tokenization; "ba" has no merge.
  CHECK(tokenizer.encode("ab ab<eos>ba") == std::vector<int64_t>{3, 4, 5, 1, 0});
  CHECK(tokenizer.decode({3, 4, 5, 1, 0}) == "ab ab<eos>ba");
  CHECK_THROWS_WITH(tokenizer.decode({9}), Catch::Contains("cannot decode token id 9"));
  CHECK_THROWS_WITH(tokenizer.encode("ab\xC3("), "cannot tokenize: the text is not valid UTF-8 at byte 2");
  CHECK_THROWS_WITH(tokenizer.encode("c"), Catch::Contains("byte 99 has no token"));
}

TEST_CASE("parts of tokenizer.json that are not implemented are refused by name", "[runtime][tokenizer_json]") {
  json tokenizer = small_tokenizer();
  tokenizer["normalizer"] = {{"type", "NFC"}};
  {
    const TokenizerFolder folder(tokenizer);
    CHECK_THROWS_WITH(Tokenizer::load(folder.dir), Catch::Contains("normalizer 'NFC' is not implemented"));
  }
  tokenizer = small_tokenizer();
  tokenizer["pre_tokenizer"] = {{"type", "Metaspace"}};
  {
    const TokenizerFolder folder(tokenizer);
    CHECK_THROWS_WITH(Tokenizer::load(folder.dir), Catch::Contains("pre-tokenizer 'Metaspace' is not implemented"));
  }
  tokenizer = small_tokenizer();
  tokenizer["decoder"] = {{"type", "WordPiece"}};
  {
    const TokenizerFolder folder(tokenizer);
    CHECK_THROWS_WITH(Tokenizer::load(folder.dir), Catch::Contains("decoder 'WordPiece' is not implemented"));
  }
  tokenizer = small_tokenizer();
  tokenizer["model"]["merges"].push_back("a c");
  {
    const TokenizerFolder folder(tokenizer);
    CHECK_THROWS_WITH(Tokenizer::load(folder.dir),
                      Catch::Contains("tokenizer.json': merge 2 (\"a\", \"c\") names a token that is not in the "
                                      "vocabulary"));
  }
}
