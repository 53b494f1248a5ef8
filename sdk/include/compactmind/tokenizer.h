// The model folder's tokenizer: SentencePiece (`tokenizer.model`, Llama-2) or a Hugging Face
// `tokenizer.json` of the byte-level BPE kind (Llama-3); BOS handling as the folder's files say.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace compactmind {

enum class TokenizerKind {
  automatic,       // tokenizer.model when present, else tokenizer.json
  sentencepiece,   // tokenizer.model
  tokenizer_json,  // tokenizer.json
};

// "auto" | "sentencepiece" | "tokenizer.json" (the CLI's --tokenizer values); throws on others.
TokenizerKind parse_tokenizer_kind(const std::string& name);
std::string tokenizer_kind_name(TokenizerKind kind);

class Tokenizer {
 public:
  // SentencePiece: `dir/tokenizer.model` and `dir/tokenizer_config.json` (add_bos_token, default true).
  // tokenizer.json: `dir/tokenizer.json`; the BOS is what its post-processor puts in front, the EOS is
  // tokenizer_config.json's eos_token.
  static Tokenizer load(const std::filesystem::path& model_dir, TokenizerKind kind = TokenizerKind::automatic);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Pieces only: no BOS/EOS. Text that spells an added/special token (tokenizer.json) is that token.
  std::vector<int64_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int64_t>& ids) const;
  bool add_bos_token() const { return add_bos_token_; }
  int64_t bos_id() const;  // -1 when the tokenizer has none
  int64_t eos_id() const;  // -1 when the tokenizer has none
  int64_t vocab_size() const;
  TokenizerKind kind() const { return kind_; }  // sentencepiece or tokenizer_json, never automatic

 private:
  struct Impl;
  Tokenizer() = default;
  std::unique_ptr<Impl> impl_;
  bool add_bos_token_ = true;
  TokenizerKind kind_ = TokenizerKind::sentencepiece;
};

}  // namespace compactmind
