// The statuses the COMPACTMIND_PLUGIN wrapper returns across the C boundary (plugin_abi.h: cm_status is
// fixed-size and returned by value, so nothing is allocated on one side and freed on the other).
#include "compactmind/method.h"

#include <cstring>

namespace compactmind::plugin_detail {
namespace {

constexpr char kTruncatedSuffix[] = " [truncated]";

// Length of the longest prefix of `text` that fits in `limit` bytes without splitting a UTF-8
// sequence: a cut inside a multi-byte character would hand the host invalid UTF-8.
size_t utf8_prefix_length(const char* text, size_t length, size_t limit) {
  if (length <= limit) return length;
  size_t cut = limit;
  // Step back over continuation bytes (10xxxxxx) to the lead byte of the character at the cut.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

cm_status ok_status() {
  cm_status status;
  status.code = 0;
  status.message[0] = '\0';
  return status;
}

cm_status error_status(const char* message) {
  cm_status status;
  status.code = 1;
  if (message == nullptr || message[0] == '\0') message = "failed without a message";
  const size_t length = std::strlen(message);
  const size_t capacity = CM_STATUS_MESSAGE_CAPACITY - 1;  // keep one byte for the NUL
  if (length <= capacity) {
    std::memcpy(status.message, message, length + 1);
    return status;
  }
  const size_t kept = utf8_prefix_length(message, length, capacity - (sizeof(kTruncatedSuffix) - 1));
  std::memcpy(status.message, message, kept);
  std::memcpy(status.message + kept, kTruncatedSuffix, sizeof(kTruncatedSuffix));  // with its NUL
  return status;
}

}  // namespace compactmind::plugin_detail
