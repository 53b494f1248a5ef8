// SentencePiece tokenizer (`tokenizer.model`), BOS handling as `tokenizer_config.json` says.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace compactmind {

class Tokenizer {
 public:
  // Loads `dir/tokenizer.model` and `dir/tokenizer_config.json` (add_bos_token, default true).
  static Tokenizer load(const std::filesystem::path& model_dir);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Pieces only: no BOS/EOS.
  std::vector<int64_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int64_t>& ids) const;
  bool add_bos_token() const { return add_bos_token_; }
  int64_t bos_id() const;
  int64_t eos_id() const;
  int64_t vocab_size() const;

 private:
  struct Impl;
  Tokenizer() = default;
  std::unique_ptr<Impl> impl_;
  bool add_bos_token_ = true;
};

}  // namespace compactmind
