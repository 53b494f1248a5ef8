// tokenizer.json (Hugging Face tokenizers' serialisation) → the encode/decode pipeline of
// tokenizer_json.h, following tokenizers' own order: added tokens, normalizer (none), pre-tokenizers,
// model, post-processor; and the decoder in reverse.
#include "tokenizer_json.h"

#include "utf8.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace compactmind::detail {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// GPT-2's pre-tokenizer regex, which tokenizers' ByteLevel pre-tokenizer applies when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw std::runtime_error(where + ": " + problem);
}

json read_json(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + file.string() + "'");
  try {
    return json::parse(in);
  } catch (const json::exception& error) {
    throw std::runtime_error("'" + file.string() + "' is not valid JSON: " + error.what());
  }
}

std::string type_of(const json& object) { return object.is_object() ? object.value("type", "") : ""; }

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// A `Split` pattern given as {"String": "..."} matches that text literally.
std::string literal_pattern(const std::string& text) {
  std::string pattern;
  for (const char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
  }
  return pattern;
}

// The content of a tokenizer_config.json token entry: "text" or {"content": "text", ...}.
std::optional<std::string> token_content(const json& config, const char* key) {
  if (!config.contains(key)) return std::nullopt;
  const json& value = config[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string())
    return value["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

std::unique_ptr<TokenizerJson> TokenizerJson::load(const fs::path& file, const fs::path& config_file) {
  const std::string where = "tokenizer '" + file.string() + "'";
  std::unique_ptr<TokenizerJson> tokenizer(new TokenizerJson(read_json(file), where));
  if (fs::exists(config_file)) {
    const json config = read_json(config_file);
    if (!tokenizer->adds_bos_)
      if (const auto bos = token_content(config, "bos_token"))
        tokenizer->bos_id_ = tokenizer->id_of_token(*bos).value_or(-1);
    if (const auto eos = token_content(config, "eos_token")) tokenizer->eos_id_ = tokenizer->id_of_token(*eos).value_or(-1);
  }
  return tokenizer;
}

TokenizerJson::TokenizerJson(const json& tokenizer, const std::string& where) {
  if (!tokenizer.is_object()) fail(where, "not a JSON object");
  if (tokenizer.contains("normalizer") && !tokenizer["normalizer"].is_null())
    fail(where, "normalizer '" + type_of(tokenizer["normalizer"]) +
                    "' is not implemented (CompactMind reads tokenizer.json files without a normalizer, as "
                    "Llama-3's)");
  if (!tokenizer.contains("model")) fail(where, "\"model\" is missing");
  model_ = std::make_unique<ByteLevelBpe>(tokenizer["model"], where);
  vocab_size_ = model_->size();
  read_pre_tokenizer(tokenizer.value("pre_tokenizer", json()), where);

  if (tokenizer.contains("added_tokens")) {
    const json& added = tokenizer["added_tokens"];
    if (!added.is_array()) fail(where, "\"added_tokens\" must be a list");
    for (const json& entry : added) {
      if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer() || entry["id"].get<int64_t>() < 0 ||
          !entry.contains("content") || !entry["content"].is_string() || entry["content"].get<std::string>().empty())
        fail(where, "added token " + entry.dump() + " needs a non-negative \"id\" and a non-empty \"content\"");
      if (entry.value("single_word", false))
        fail(where, "added token " + entry["content"].dump() + " has single_word: true, which is not implemented");
      added_tokens_.push_back({entry["content"].get<std::string>(), entry["id"].get<int64_t>(),
                               entry.value("lstrip", false), entry.value("rstrip", false)});
      vocab_size_ = std::max(vocab_size_, added_tokens_.back().id + 1);
    }
  }
  added_by_first_byte_.resize(256);
  added_by_id_.assign(size_t(vocab_size_), nullptr);
  for (const AddedToken& token : added_tokens_) {
    added_by_first_byte_[static_cast<unsigned char>(token.content[0])].push_back(&token);
    added_by_id_[size_t(token.id)] = &token;
  }
  for (auto& candidates : added_by_first_byte_)
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const AddedToken* a, const AddedToken* b) { return a->content.size() > b->content.size(); });

  read_post_processor(tokenizer.value("post_processor", json()), where);
  const json decoder = tokenizer.value("decoder", json());
  const bool byte_level_decoder =
      type_of(decoder) == "ByteLevel" ||
      (type_of(decoder) == "Sequence" && decoder.contains("decoders") && decoder["decoders"].size() == 1 &&
       type_of(decoder["decoders"][0]) == "ByteLevel");
  if (!byte_level_decoder)
    fail(where, "decoder " + (decoder.is_null() ? std::string("null") : "'" + type_of(decoder) + "'") +
                    " is not implemented (a byte-level BPE decodes with the 'ByteLevel' decoder)");
}

void TokenizerJson::read_pre_tokenizer(const json& pre_tokenizer, const std::string& where) {
  std::vector<json> parts;
  if (type_of(pre_tokenizer) == "Sequence") {
    for (const json& part : pre_tokenizer.value("pretokenizers", json::array())) parts.push_back(part);
  } else if (!pre_tokenizer.is_null()) {
    parts.push_back(pre_tokenizer);
  }
  bool byte_level = false;
  for (const json& part : parts) {
    const std::string type = type_of(part);
    if (type == "ByteLevel") {
      byte_level = true;
      if (steps_.empty()) add_prefix_space_ = part.value("add_prefix_space", false);
      else if (part.value("add_prefix_space", false))
        fail(where, "a ByteLevel pre-tokenizer with add_prefix_space after other pre-tokenizers is not implemented");
      if (part.value("use_regex", true))
        steps_.push_back({std::make_unique<Pcre2Pattern>(kGpt2Pattern, where + ": ByteLevel pre-tokenizer"),
                          SplitBehavior::isolated});
    } else if (type == "Split") {
      if (part.value("invert", false)) fail(where, "a Split pre-tokenizer with invert: true is not implemented");
      const json& pattern = part.value("pattern", json());
      std::string regex;
      if (pattern.contains("Regex") && pattern["Regex"].is_string()) regex = pattern["Regex"].get<std::string>();
      else if (pattern.contains("String") && pattern["String"].is_string())
        regex = literal_pattern(pattern["String"].get<std::string>());
      else fail(where, "a Split pre-tokenizer needs \"pattern\": {\"Regex\": ...} or {\"String\": ...}");
      const std::string behavior = part.value("behavior", "Isolated");
      SplitStep step{std::make_unique<Pcre2Pattern>(regex, where + ": Split pre-tokenizer"), SplitBehavior::isolated};
      if (behavior == "Removed") step.behavior = SplitBehavior::removed;
      else if (behavior == "MergedWithPrevious") step.behavior = SplitBehavior::merged_with_previous;
      else if (behavior == "MergedWithNext") step.behavior = SplitBehavior::merged_with_next;
      else if (behavior == "Contiguous") step.behavior = SplitBehavior::contiguous;
      else if (behavior != "Isolated") fail(where, "Split behavior '" + behavior + "' is unknown");
      steps_.push_back(std::move(step));
    } else {
      fail(where, "pre-tokenizer '" + type + "' is not implemented (CompactMind implements Split and ByteLevel)");
    }
  }
  if (!byte_level)
    fail(where, "there is no ByteLevel pre-tokenizer; CompactMind implements byte-level BPE tokenizer.json files "
                "(for a SentencePiece model, put its tokenizer.model in the folder)");
}

void TokenizerJson::read_post_processor(const json& post_processor, const std::string& where) {
  const std::string type = type_of(post_processor);
  if (post_processor.is_null() || type == "ByteLevel") return;  // ByteLevel only adjusts offsets
  if (type == "Sequence") {
    for (const json& part : post_processor.value("processors", json::array())) read_post_processor(part, where);
    return;
  }
  if (type != "TemplateProcessing")
    fail(where, "post-processor '" + type + "' is not implemented (CompactMind implements TemplateProcessing)");
  // Special tokens before $A are the BOS. Those after it (an EOS) are not used: the evaluation protocol
  // puts one BOS in front and no EOS.
  int leading = 0;
  std::string bos_name;
  for (const json& item : post_processor.value("single", json::array())) {
    if (item.contains("Sequence")) break;
    if (item.contains("SpecialToken")) {
      ++leading;
      bos_name = item["SpecialToken"].value("id", "");
    }
  }
  if (leading == 0) return;
  if (leading > 1)
    fail(where, "the TemplateProcessing post-processor puts " + std::to_string(leading) +
                    " tokens before the text; CompactMind supports one (the BOS)");
  const json& special = post_processor.value("special_tokens", json::object());
  if (!special.contains(bos_name) || !special[bos_name].contains("ids") || special[bos_name]["ids"].size() != 1)
    fail(where, "the TemplateProcessing post-processor's token '" + bos_name +
                    "' is not listed with one id under \"special_tokens\"");
  adds_bos_ = true;
  bos_id_ = special[bos_name]["ids"][0].get<int64_t>();
}

std::optional<int64_t> TokenizerJson::id_of_token(const std::string& content) const {
  for (const AddedToken& token : added_tokens_)
    if (token.content == content) return token.id;
  // A name like "<unk>" is the same in byte-level and raw form (printable ASCII, no space).
  if (const auto id = model_->find(content)) return *id;
  return std::nullopt;
}

std::pair<size_t, const TokenizerJson::AddedToken*> TokenizerJson::next_added_token(std::string_view text,
                                                                                     size_t from) const {
  for (size_t position = from; position < text.size(); ++position) {
    for (const AddedToken* token : added_by_first_byte_[static_cast<unsigned char>(text[position])])
      if (text.compare(position, token->content.size(), token->content) == 0) return {position, token};
  }
  return {text.size(), nullptr};
}

std::vector<int64_t> TokenizerJson::encode(const std::string& text) const {
  if (const size_t bad = first_invalid_utf8(text); bad != std::string_view::npos)
    throw std::runtime_error("cannot tokenize: the text is not valid UTF-8 at byte " + std::to_string(bad));
  std::vector<int64_t> ids;
  ids.reserve(text.size() / 4);
  ByteLevelBpe::PieceCache cache;
  const std::string_view view(text);
  size_t segment_start = 0;
  while (segment_start <= view.size()) {
    auto [position, token] = next_added_token(view, segment_start);
    size_t segment_end = position;
    size_t resume = position;
    if (token != nullptr) {
      resume = position + token->content.size();
      // lstrip/rstrip take the neighbouring whitespace into the token (ASCII whitespace here; tokenizers
      // uses Unicode's, which none of the Llama-3 tokens asks for).
      if (token->lstrip)
        while (segment_end > segment_start && is_ascii_space(view[segment_end - 1])) --segment_end;
      if (token->rstrip)
        while (resume < view.size() && is_ascii_space(view[resume])) ++resume;
    }
    if (segment_end > segment_start) encode_segment(view.substr(segment_start, segment_end - segment_start), ids, cache);
    if (token == nullptr) break;
    ids.push_back(token->id);
    segment_start = resume;
  }
  return ids;
}

void TokenizerJson::encode_segment(std::string_view segment, std::vector<int64_t>& ids,
                                   ByteLevelBpe::PieceCache& cache) const {
  if (add_prefix_space_ && segment.front() != ' ') {
    const std::string prefixed = " " + std::string(segment);
    split(0, prefixed, ids, cache);
  } else {
    split(0, segment, ids, cache);
  }
}

void TokenizerJson::split(size_t step, std::string_view piece, std::vector<int64_t>& ids,
                          ByteLevelBpe::PieceCache& cache) const {
  if (step == steps_.size()) {
    model_->encode(piece, ids, cache);
    return;
  }
  const auto next = [&](size_t begin, size_t end) {
    if (end > begin) split(step + 1, piece.substr(begin, end - begin), ids, cache);
  };
  // Pieces are cut at match boundaries as tokenizers' SplitDelimiterBehavior says; `cut` is where the
  // piece being built starts, `match_run_end` where the last run of adjacent matches ended.
  const SplitBehavior behavior = steps_[step].behavior;
  size_t cut = 0;
  size_t match_run_end = std::string_view::npos;
  steps_[step].pattern->for_each_match(piece, [&](size_t begin, size_t end) {
    switch (behavior) {
      case SplitBehavior::isolated:
        next(cut, begin);
        next(begin, end);
        cut = end;
        break;
      case SplitBehavior::removed:
        next(cut, begin);
        cut = end;
        break;
      case SplitBehavior::merged_with_previous:
        next(cut, end);
        cut = end;
        break;
      case SplitBehavior::merged_with_next:
        next(cut, begin);
        cut = begin;
        break;
      case SplitBehavior::contiguous:
        if (match_run_end != begin) {  // not adjacent: the previous run of matches ends, then the gap
          if (match_run_end != std::string_view::npos) {
            next(cut, match_run_end);
            cut = match_run_end;
          }
          next(cut, begin);
          cut = begin;
        }
        match_run_end = end;
        break;
    }
  });
  if (behavior == SplitBehavior::contiguous && match_run_end != std::string_view::npos && match_run_end > cut) {
    next(cut, match_run_end);
    cut = match_run_end;
  }
  next(cut, piece.size());
}

std::string TokenizerJson::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  for (const int64_t id : ids) {
    const AddedToken* added = id >= 0 && id < vocab_size_ ? added_by_id_[size_t(id)] : nullptr;
    if (added != nullptr) {
      text += added->content;
    } else if (const std::string* bytes = model_->token_bytes(id)) {
      text += *bytes;
    } else {
      throw std::runtime_error("cannot decode token id " + std::to_string(id) + ": the tokenizer's vocabulary has " +
                               std::to_string(vocab_size_) + " entries and none with this id");
    }
  }
  return text;
}

}  // namespace compactmind::detail
