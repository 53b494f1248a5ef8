// A compiled PCRE2 pattern run over UTF-8 text (internal to the SDK): the `Split` pre-tokenizer regexes
// of tokenizer.json, which need Unicode classes (\p{L}, \p{N}) that std::regex does not have.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace compactmind::detail {

class Pcre2Pattern {
 public:
  // Compiled with PCRE2_UTF | PCRE2_UCP (\s, \w, \d and case folding by Unicode properties), JIT-compiled
  // when the library supports it. `where` names the pattern's origin in errors.
  Pcre2Pattern(const std::string& pattern, const std::string& where);
  ~Pcre2Pattern();
  Pcre2Pattern(Pcre2Pattern&&) noexcept;
  Pcre2Pattern& operator=(Pcre2Pattern&&) noexcept;

  // Calls on_match(begin, end) with byte offsets for each non-empty, non-overlapping match, left to
  // right. `text` must be valid UTF-8 (checked by the caller, once for the whole input).
  void for_each_match(std::string_view text, const std::function<void(size_t, size_t)>& on_match) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace compactmind::detail
