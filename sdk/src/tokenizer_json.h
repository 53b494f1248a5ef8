// A Hugging Face `tokenizer.json` of the byte-level BPE kind (Llama-3, GPT-2 style): added tokens
// matched first and never split, the Split/ByteLevel pre-tokenizers, the BPE model, the BOS the
// TemplateProcessing post-processor puts in front, and the ByteLevel decoder (internal to the SDK).
// Parts of the format it does not implement (normalizers, other models and decoders) are refused by
// name when the file is loaded, never ignored.
#pragma once

#include "byte_level_bpe.h"
#include "pcre2_pattern.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace compactmind::detail {

class TokenizerJson {
 public:
  // `config_file` (tokenizer_config.json, may be absent) names the EOS token, and the BOS when the
  // post-processor adds none.
  static std::unique_ptr<TokenizerJson> load(const std::filesystem::path& file,
                                             const std::filesystem::path& config_file);

  // The ids of `text` without the post-processor's tokens (add_special_tokens=False).
  std::vector<int64_t> encode(const std::string& text) const;
  // Concatenated bytes of the tokens (skip_special_tokens=False, no clean-up of spaces).
  std::string decode(const std::vector<int64_t>& ids) const;

  bool adds_bos() const { return adds_bos_; }
  int64_t bos_id() const { return bos_id_; }  // -1 when the files name none
  int64_t eos_id() const { return eos_id_; }  // -1 when the files name none
  int64_t vocab_size() const { return vocab_size_; }

 private:
  enum class SplitBehavior { isolated, removed, merged_with_previous, merged_with_next, contiguous };
  struct SplitStep {
    std::unique_ptr<Pcre2Pattern> pattern;
    SplitBehavior behavior = SplitBehavior::isolated;
  };
  struct AddedToken {
    std::string content;
    int64_t id = 0;
    bool lstrip = false;  // absorbs the whitespace before it
    bool rstrip = false;  // absorbs the whitespace after it
  };
  TokenizerJson(const nlohmann::json& json, const std::string& where);
  void read_pre_tokenizer(const nlohmann::json& pre_tokenizer, const std::string& where);
  void read_post_processor(const nlohmann::json& post_processor, const std::string& where);
  std::optional<int64_t> id_of_token(const std::string& content) const;
  // Position and token of the leftmost (then longest) added token in text[from, ...).
  std::pair<size_t, const AddedToken*> next_added_token(std::string_view text, size_t from) const;
  void encode_segment(std::string_view segment, std::vector<int64_t>& ids, ByteLevelBpe::PieceCache& cache) const;
  void split(size_t step, std::string_view piece, std::vector<int64_t>& ids, ByteLevelBpe::PieceCache& cache) const;

  std::unique_ptr<ByteLevelBpe> model_;
  std::vector<SplitStep> steps_;
  bool add_prefix_space_ = false;
  std::vector<AddedToken> added_tokens_;
  std::vector<std::vector<const AddedToken*>> added_by_first_byte_;  // [256], longest first
  std::vector<const AddedToken*> added_by_id_;                       // [vocab_size], null if none
  bool adds_bos_ = false;
  int64_t bos_id_ = -1;
  int64_t eos_id_ = -1;
  int64_t vocab_size_ = 0;
};

}  // namespace compactmind::detail
