// Byte-level BPE as Hugging Face tokenizers' models/bpe computes it: merges applied lowest rank first
// (leftmost among equal ranks, as its Word::merge_all priority queue), `ignore_merges` and byte fallback.
#include "byte_level_bpe.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <queue>
#include <stdexcept>

namespace compactmind::detail {
namespace {

// GPT-2's table: code point of each byte's character.
const std::vector<uint32_t>& byte_code_points() {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> points(256, 0);
    std::vector<bool> printable(256, false);
    for (uint32_t b = '!'; b <= '~'; ++b) printable[b] = true;
    for (uint32_t b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
    for (uint32_t b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) points[b] = printable[b] ? b : next++;
    return points;
  }();
  return table;
}

// Inverse of byte_code_points, over the code points it uses (< 0x144); -1 elsewhere.
const std::vector<int>& code_point_bytes() {
  static const std::vector<int> table = [] {
    std::vector<int> bytes(0x200, -1);
    const auto& points = byte_code_points();
    for (int b = 0; b < 256; ++b) bytes[points[size_t(b)]] = b;
    return bytes;
  }();
  return table;
}

std::string utf8_of(uint32_t code_point) {
  std::string out;
  if (code_point < 0x80) {
    out += char(code_point);
  } else if (code_point < 0x800) {
    out += char(0xC0 | (code_point >> 6));
    out += char(0x80 | (code_point & 0x3F));
  } else {
    out += char(0xE0 | (code_point >> 12));
    out += char(0x80 | ((code_point >> 6) & 0x3F));
    out += char(0x80 | (code_point & 0x3F));
  }
  return out;
}

// Byte-level text → raw bytes; nullopt when a character is not one of the 256 byte characters.
std::optional<std::string> raw_bytes_of(const std::string& text) {
  const auto& bytes = code_point_bytes();
  std::string raw;
  raw.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    uint32_t point = 0;
    size_t length = 1;
    if (lead < 0x80) {
      point = lead;
    } else if ((lead & 0xE0) == 0xC0 && i + 1 < text.size()) {
      point = (uint32_t(lead & 0x1F) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3F);
      length = 2;
    } else {
      return std::nullopt;  // three-byte characters and beyond are above U+07FF, never byte characters
    }
    if (point >= bytes.size() || bytes[point] < 0) return std::nullopt;
    raw += char(bytes[point]);
    i += length;
  }
  return raw;
}

std::string printable(const std::string& token) { return nlohmann::json(token).dump(); }

}  // namespace

std::string byte_level_character(unsigned char byte) { return utf8_of(byte_code_points()[byte]); }

ByteLevelBpe::ByteLevelBpe(const nlohmann::json& model, const std::string& where) : where_(where) {
  const auto fail = [&](const std::string& problem) { throw std::runtime_error(where + ": " + problem); };
  if (!model.is_object() || model.value("type", "") != "BPE")
    fail("\"model\" is not a BPE model (type " + (model.is_object() ? model.value("type", "none") : "none") +
         "); CompactMind implements the BPE model of tokenizer.json");
  for (const char* unsupported : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(unsupported) && !model[unsupported].is_null() && model[unsupported] != "")
      fail(std::string("\"model.") + unsupported + "\" is set, which CompactMind's BPE does not implement");
  if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0)
    fail("\"model.dropout\" is set: BPE dropout samples merges at random, which an evaluation must not");
  ignore_merges_ = model.value("ignore_merges", false);
  byte_fallback_ = model.value("byte_fallback", false);

  const nlohmann::json& vocab = model.at("vocab");
  if (!vocab.is_object()) fail("\"model.vocab\" must be an object of token → id");
  int64_t largest = -1;
  for (const auto& [text, id] : vocab.items())
    if (id.is_number_integer()) largest = std::max(largest, id.get<int64_t>());
  if (largest < 0 || largest >= (int64_t(1) << 31)) fail("\"model.vocab\" has no valid ids");
  bytes_of_id_.resize(size_t(largest + 1));
  has_id_.assign(size_t(largest + 1), false);
  id_of_bytes_.reserve(vocab.size());
  for (const auto& [text, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0)
      fail("vocabulary entry " + printable(text) + " has id " + id.dump() + ", not a non-negative integer");
    const std::optional<std::string> raw = raw_bytes_of(text);
    if (!raw) fail("vocabulary entry " + printable(text) + " is not byte-level text (GPT-2's byte characters)");
    const auto index = static_cast<int32_t>(id.get<int64_t>());
    bytes_of_id_[size_t(index)] = *raw;
    has_id_[size_t(index)] = true;
    id_of_bytes_.emplace(*raw, index);
  }
  for (int b = 0; b < 256; ++b) {
    const auto found = id_of_bytes_.find(std::string(1, char(b)));
    byte_ids_[b] = found == id_of_bytes_.end() ? -1 : found->second;
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    const auto raw = raw_bytes_of(model["unk_token"].get<std::string>());
    if (raw) unk_id_ = find(*raw);
  }

  const nlohmann::json& merges = model.at("merges");
  if (!merges.is_array()) fail("\"model.merges\" must be a list");
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    // Two forms: "left right" (tokenizers < 0.20) or ["left", "right"].
    const nlohmann::json& merge = merges[rank];
    std::string left, right;
    if (merge.is_string()) {
      const std::string text = merge.get<std::string>();
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos)
        fail("merge " + std::to_string(rank) + " " + printable(text) + " is not two tokens separated by one space");
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      fail("merge " + std::to_string(rank) + " is " + merge.dump() + ", not \"left right\" or [left, right]");
    }
    const auto left_raw = raw_bytes_of(left), right_raw = raw_bytes_of(right);
    const auto left_id = left_raw ? find(*left_raw) : std::nullopt;
    const auto right_id = right_raw ? find(*right_raw) : std::nullopt;
    const auto merged_id = left_raw && right_raw ? find(*left_raw + *right_raw) : std::nullopt;
    if (!left_id || !right_id || !merged_id)
      fail("merge " + std::to_string(rank) + " (" + printable(left) + ", " + printable(right) +
           ") names a token that is not in the vocabulary");
    // A pair listed twice keeps its first (best) rank, as tokenizers does when it builds its map.
    merges_.emplace(pair_key(*left_id, *right_id), Merge{int32_t(rank), *merged_id});
  }
}

std::optional<int32_t> ByteLevelBpe::find(const std::string& bytes) const {
  const auto found = id_of_bytes_.find(bytes);
  if (found == id_of_bytes_.end()) return std::nullopt;
  return found->second;
}

const std::string* ByteLevelBpe::token_bytes(int64_t id) const {
  if (id < 0 || id >= size() || !has_id_[size_t(id)]) return nullptr;
  return &bytes_of_id_[size_t(id)];
}

void ByteLevelBpe::merge_symbols(std::string_view piece, std::vector<int32_t>& out) const {
  // Symbols form a linked list over the piece's bytes; a heap holds the candidate merges of adjacent
  // symbols, and an entry whose symbols changed since it was pushed is skipped when it comes up.
  struct Symbol {
    int32_t id;
    int32_t previous;
    int32_t next;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  for (size_t i = 0; i < piece.size(); ++i) {
    const auto byte = static_cast<unsigned char>(piece[i]);
    int32_t id = byte_ids_[byte];
    if (id < 0 && byte_fallback_) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", byte);
      if (const auto fallback = find(name)) id = *fallback;
    }
    if (id < 0 && unk_id_) id = *unk_id_;
    if (id < 0)
      throw std::runtime_error(where_ + ": byte " + std::to_string(byte) +
                               " has no token, and the model has no byte fallback or unknown token");
    symbols.push_back({id, int32_t(i) - 1, i + 1 < piece.size() ? int32_t(i) + 1 : -1});
  }

  struct Candidate {
    int32_t rank;
    int32_t left;  // position of the left symbol
    int32_t left_id;
    int32_t right_id;
    int32_t merged_id;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : left > other.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  const auto push = [&](int32_t left) {
    if (left < 0 || symbols[size_t(left)].next < 0) return;
    const int32_t left_id = symbols[size_t(left)].id;
    const int32_t right_id = symbols[size_t(symbols[size_t(left)].next)].id;
    const auto found = merges_.find(pair_key(left_id, right_id));
    if (found != merges_.end()) heap.push({found->second.rank, left, left_id, right_id, found->second.merged_id});
  };
  for (int32_t i = 0; i + 1 < int32_t(symbols.size()); ++i) push(i);

  while (!heap.empty()) {
    const Candidate top = heap.top();
    heap.pop();
    Symbol& left = symbols[size_t(top.left)];
    if (left.id != top.left_id || left.next < 0 || symbols[size_t(left.next)].id != top.right_id) continue;
    const int32_t right = left.next;
    left.id = top.merged_id;
    left.next = symbols[size_t(right)].next;
    if (left.next >= 0) symbols[size_t(left.next)].previous = top.left;
    symbols[size_t(right)].id = -1;  // gone: stale candidates that name it fail the check above
    push(left.previous);
    push(top.left);
  }
  for (int32_t i = 0; i >= 0; i = symbols[size_t(i)].next) out.push_back(symbols[size_t(i)].id);
}

void ByteLevelBpe::encode(std::string_view piece, std::vector<int64_t>& ids, PieceCache& cache) const {
  std::string key(piece);
  auto cached = cache.find(key);
  if (cached == cache.end()) {
    std::vector<int32_t> tokens;
    const auto whole = ignore_merges_ ? find(key) : std::nullopt;
    if (whole) {
      tokens.push_back(*whole);
    } else {
      merge_symbols(piece, tokens);
    }
    cached = cache.emplace(std::move(key), std::move(tokens)).first;
  }
  ids.insert(ids.end(), cached->second.begin(), cached->second.end());
}

}  // namespace compactmind::detail
