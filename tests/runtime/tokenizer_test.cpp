// Tokenizer and token-stream protocol against reference.json (transformers' LlamaTokenizer ids).
#include "fixtures.h"

#include "compactmind/sha256.h"
#include "compactmind/text_data.h"
#include "compactmind/tokenizer.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <vector>

using namespace compactmind;

TEST_CASE("sha256 matches the FIPS 180-2 examples", "[runtime][sha256]") {
  CHECK(sha256_hex("", 0) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc", 3) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(sha256_hex(two_blocks.data(), two_blocks.size()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Streaming in uneven pieces gives the same digest as one call (one million 'a').
  Sha256 hasher;
  const std::string chunk(999, 'a');
  for (int i = 0; i < 1001; ++i) hasher.update(chunk.data(), chunk.size());
  hasher.update(chunk.data(), 1);
  CHECK(hasher.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("tokenizing test.txt gives the reference ids", "[runtime][tokenizer]") {
  const Tokenizer tokenizer = Tokenizer::load(test::model_dir("tiny-llama2"));
  CHECK(tokenizer.add_bos_token());
  CHECK(tokenizer.bos_id() == 1);
  CHECK(tokenizer.eos_id() == 2);
  CHECK(tokenizer.vocab_size() == 4096);

  const TokenStream stream = tokenize_file(tokenizer, test::wikitext("test.txt"));
  const auto& tokens = test::reference_json()["tokens"];
  REQUIRE(stream.ids.numel() == tokens["test_count"].get<int64_t>());
  const auto first64 = tokens["test_first64"].get<std::vector<int64_t>>();
  const int64_t* ids = stream.ids.data_ptr<int64_t>();
  CHECK(std::vector<int64_t>(ids, ids + 64) == first64);

  // reference.json hashes the ids as int32 little-endian.
  std::vector<uint8_t> bytes;
  bytes.reserve(stream.ids.numel() * 4);
  for (int64_t i = 0; i < stream.ids.numel(); ++i) {
    const auto id = static_cast<uint32_t>(ids[i]);
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<uint8_t>(id >> shift));
  }
  CHECK(sha256_hex(bytes.data(), bytes.size()) == tokens["test_sha256_int32le"].get<std::string>());
  CHECK(stream.bos);
  CHECK(stream.sha256 == sha256_hex_of_file(test::wikitext("test.txt")));
}

TEST_CASE("encode and decode round-trip, BOS only where asked", "[runtime][tokenizer]") {
  const Tokenizer tokenizer = Tokenizer::load(test::model_dir("tiny-gqa"));
  const std::string text = "The game 's opening theme was composed by Sakimoto .";
  const std::vector<int64_t> pieces = tokenizer.encode(text);
  REQUIRE_FALSE(pieces.empty());
  CHECK(pieces.front() != tokenizer.bos_id());
  CHECK(tokenizer.decode(pieces) == text);
  CHECK_THROWS_WITH(tokenizer.decode({5000}), Catch::Contains("vocabulary has 4096 pieces"));
}

TEST_CASE("a folder without tokenizer.model is refused with its name", "[runtime][tokenizer]") {
  const auto empty = std::filesystem::temp_directory_path() /
                     ("cm-tokenizer-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  CHECK_THROWS_WITH(Tokenizer::load(empty), Catch::Contains(empty.string()) && Catch::Contains("tokenizer.model"));
  std::filesystem::remove_all(empty);
}

TEST_CASE("windows are non-overlapping, the remainder dropped", "[runtime][text_data]") {
  const at::Tensor stream = at::arange(10, at::kLong);
  const at::Tensor windows = cut_windows(stream, 3);
  REQUIRE(windows.sizes() == at::IntArrayRef({3, 3}));
  CHECK(windows[2][0].item<int64_t>() == 6);
  CHECK(cut_windows(stream, 3, 2).size(0) == 2);
  CHECK(cut_windows(stream, 11).size(0) == 0);
  CHECK_THROWS_WITH(cut_windows(stream, 1), Catch::Contains("seqlen must be at least 2"));
}
