#include "compactmind/tokenizer.h"

#include "sentencepiece_library.h"
#include "tokenizer_json.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace compactmind {

// Exactly one of the two is set, as kind_ says.
struct Tokenizer::Impl {
  detail::SentencePieceLibrary::ProcessorPointer processor{nullptr, nullptr};
  std::unique_ptr<detail::TokenizerJson> json;
};

namespace {

// transformers' LlamaTokenizer adds BOS unless tokenizer_config.json says otherwise.
bool read_add_bos_token(const std::filesystem::path& config_path) {
  if (!std::filesystem::exists(config_path)) return true;
  std::ifstream in(config_path);
  if (!in) throw std::runtime_error("cannot open '" + config_path.string() + "'");
  nlohmann::json config;
  try {
    in >> config;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error("'" + config_path.string() + "' is not valid JSON: " + error.what());
  }
  const auto found = config.find("add_bos_token");
  if (found == config.end() || found->is_null()) return true;
  if (!found->is_boolean()) {
    throw std::runtime_error("'" + config_path.string() + "': \"add_bos_token\" must be true or false");
  }
  return found->get<bool>();
}

}  // namespace

TokenizerKind parse_tokenizer_kind(const std::string& name) {
  if (name == "auto") return TokenizerKind::automatic;
  if (name == "sentencepiece") return TokenizerKind::sentencepiece;
  if (name == "tokenizer.json") return TokenizerKind::tokenizer_json;
  throw std::invalid_argument("unknown tokenizer kind '" + name + "': expected auto, sentencepiece or tokenizer.json");
}

std::string tokenizer_kind_name(TokenizerKind kind) {
  switch (kind) {
    case TokenizerKind::automatic: return "auto";
    case TokenizerKind::sentencepiece: return "sentencepiece";
    case TokenizerKind::tokenizer_json: return "tokenizer.json";
  }
  return "?";
}

Tokenizer Tokenizer::load(const std::filesystem::path& model_dir, TokenizerKind kind) {
  const auto model_path = model_dir / "tokenizer.model";
  const auto json_path = model_dir / "tokenizer.json";
  if (kind == TokenizerKind::automatic) {
    // Folders with both (TinyLlama, Mistral) keep SentencePiece, the tokenizer their ids were made with.
    if (std::filesystem::exists(model_path)) kind = TokenizerKind::sentencepiece;
    else if (std::filesystem::exists(json_path)) kind = TokenizerKind::tokenizer_json;
    else
      throw std::runtime_error("no tokenizer in '" + model_dir.string() +
                               "': neither 'tokenizer.model' (SentencePiece) nor 'tokenizer.json' (Hugging Face "
                               "tokenizers) is there");
  }
  const auto& wanted = kind == TokenizerKind::sentencepiece ? model_path : json_path;
  if (!std::filesystem::exists(wanted))
    throw std::runtime_error("no tokenizer in '" + model_dir.string() + "': '" + wanted.filename().string() + "' (" +
                             tokenizer_kind_name(kind) + ", as asked) is missing");
  if (!std::filesystem::is_regular_file(wanted))
    throw std::runtime_error("tokenizer '" + wanted.string() + "' is not a regular file (a folder, FIFO or device)");
  Tokenizer tokenizer;
  tokenizer.kind_ = kind;
  tokenizer.impl_ = std::make_unique<Impl>();
  if (kind == TokenizerKind::tokenizer_json) {
    tokenizer.impl_->json = detail::TokenizerJson::load(json_path, model_dir / "tokenizer_config.json");
    tokenizer.add_bos_token_ = tokenizer.impl_->json->adds_bos();
    return tokenizer;
  }
  const auto& library = detail::SentencePieceLibrary::instance();
  tokenizer.impl_->processor = library.create_processor();
  auto& processor = *tokenizer.impl_->processor;
  library.check([&] { return processor.Load(model_path.string()); },
                "cannot load SentencePiece model '" + model_path.string() + "'");
  tokenizer.add_bos_token_ = read_add_bos_token(model_dir / "tokenizer_config.json");
  return tokenizer;
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int64_t> Tokenizer::encode(const std::string& text) const {
  if (impl_->json) return impl_->json->encode(text);
  std::vector<int> pieces;
  detail::SentencePieceLibrary::instance().check([&] { return impl_->processor->Encode(text, &pieces); },
                                                 "SentencePiece encode failed");
  return std::vector<int64_t>(pieces.begin(), pieces.end());
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  if (impl_->json) return impl_->json->decode(ids);
  const int vocab = impl_->processor->GetPieceSize();
  std::vector<int> pieces;
  pieces.reserve(ids.size());
  for (const int64_t id : ids) {
    if (id < 0 || id >= vocab) {
      throw std::runtime_error("cannot decode token id " + std::to_string(id) +
                               ": the tokenizer's vocabulary has " + std::to_string(vocab) + " pieces");
    }
    pieces.push_back(static_cast<int>(id));
  }
  std::string text;
  detail::SentencePieceLibrary::instance().check([&] { return impl_->processor->Decode(pieces, &text); },
                                                 "SentencePiece decode failed");
  return text;
}

int64_t Tokenizer::bos_id() const { return impl_->json ? impl_->json->bos_id() : impl_->processor->bos_id(); }
int64_t Tokenizer::eos_id() const { return impl_->json ? impl_->json->eos_id() : impl_->processor->eos_id(); }
int64_t Tokenizer::vocab_size() const {
  return impl_->json ? impl_->json->vocab_size() : impl_->processor->GetPieceSize();
}

}  // namespace compactmind
