// The BPE model of a byte-level tokenizer.json (GPT-2, Llama-3, Qwen2): vocabulary, merges ranked by
// their order, and the encoding of one pre-tokenized piece (internal to the SDK).
//
// The vocabulary is stored in GPT-2's byte-to-unicode form (byte 0x20 is 'Ġ', ...). It is translated
// back to raw bytes once at load, so that encoding works on the text's bytes directly and decoding is a
// concatenation.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace compactmind::detail {

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100...
// Returns the UTF-8 of byte `byte`'s character.
std::string byte_level_character(unsigned char byte);

class ByteLevelBpe {
 public:
  // `model` is tokenizer.json's "model" object; `where` names the file in errors.
  ByteLevelBpe(const nlohmann::json& model, const std::string& where);

  // Pieces already encoded, reused within one encode call (natural text repeats its words).
  using PieceCache = std::unordered_map<std::string, std::vector<int32_t>>;

  // Appends the ids of one pre-tokenized piece (raw bytes, non-empty).
  void encode(std::string_view piece, std::vector<int64_t>& ids, PieceCache& cache) const;

  std::optional<int32_t> find(const std::string& bytes) const;
  // Raw bytes of token `id`; nullptr when the vocabulary has no such id.
  const std::string* token_bytes(int64_t id) const;
  // One past the largest id in the vocabulary.
  int64_t size() const { return static_cast<int64_t>(bytes_of_id_.size()); }

 private:
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  void merge_symbols(std::string_view piece, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t> id_of_bytes_;
  std::vector<std::string> bytes_of_id_;
  std::vector<bool> has_id_;
  std::unordered_map<uint64_t, Merge> merges_;
  int32_t byte_ids_[256];         // the token of each single byte, -1 if none (then byte fallback)
  bool ignore_merges_ = false;    // a piece that is a whole vocabulary entry is that token (Llama-3)
  bool byte_fallback_ = false;    // a byte without a token becomes "<0xXX>"
  std::optional<int32_t> unk_id_;
  std::string where_;
};

}  // namespace compactmind::detail
