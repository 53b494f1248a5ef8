#include "pcre2_pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdexcept>
#include <vector>

namespace compactmind::detail {
namespace {

std::string error_text(int code) {
  std::vector<PCRE2_UCHAR> buffer(256);
  const int length = pcre2_get_error_message(code, buffer.data(), buffer.size());
  return length < 0 ? "PCRE2 error " + std::to_string(code)
                    : std::string(reinterpret_cast<const char*>(buffer.data()), size_t(length));
}

}  // namespace

struct Pcre2Pattern::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() { pcre2_code_free(code); }
};

Pcre2Pattern::Pcre2Pattern(const std::string& pattern, const std::string& where) : impl_(std::make_unique<Impl>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                              &error, &offset, nullptr);
  if (impl_->code == nullptr)
    throw std::runtime_error(where + ": the regex " + pattern + " does not compile at offset " +
                             std::to_string(offset) + ": " + error_text(error));
  // The JIT makes matching several times faster; without it (no JIT on this CPU) the interpreter runs.
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Pcre2Pattern::~Pcre2Pattern() = default;
Pcre2Pattern::Pcre2Pattern(Pcre2Pattern&&) noexcept = default;
Pcre2Pattern& Pcre2Pattern::operator=(Pcre2Pattern&&) noexcept = default;

void Pcre2Pattern::for_each_match(std::string_view text, const std::function<void(size_t, size_t)>& on_match) const {
  const std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> match_data(
      pcre2_match_data_create_from_pattern(impl_->code, nullptr), &pcre2_match_data_free);
  if (!match_data) throw std::bad_alloc();
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start <= text.size()) {
    // The caller has checked the UTF-8 (the JIT fast path would not: invalid input is undefined there).
    const int result = impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                                    match_data.get(), nullptr)
                                  : pcre2_match(impl_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                                match_data.get(), nullptr);
    if (result == PCRE2_ERROR_NOMATCH) break;
    if (result < 0) throw std::runtime_error("regex match failed: " + error_text(result));
    const PCRE2_SIZE* span = pcre2_get_ovector_pointer(match_data.get());
    if (span[1] > span[0]) {
      on_match(span[0], span[1]);
      start = span[1];
    } else {
      // An empty match: step over one UTF-8 character so that the scan advances.
      start = span[0] + 1;
      while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
    }
  }
}

}  // namespace compactmind::detail
