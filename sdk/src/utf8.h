// UTF-8 validation shared by the text loader and the tokenizer.json reader (SDK-internal).
#pragma once

#include <cstddef>
#include <string_view>

namespace compactmind::detail {

// The offset of the first byte that does not belong to well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or std::string_view::npos.
size_t first_invalid_utf8(std::string_view text);

}  // namespace compactmind::detail
