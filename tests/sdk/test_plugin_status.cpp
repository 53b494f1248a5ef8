// The statuses that cross the plugin boundary: fixed-size, NUL-terminated, truncated on a UTF-8
// character boundary; and the wrapper that turns exceptions into them.
#include "compactmind/method.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <stdexcept>
#include <string>

using namespace compactmind::plugin_detail;

namespace {

// True when `text` is well-formed UTF-8 (no truncated multi-byte sequence).
bool valid_utf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

}  // namespace

TEST_CASE("ok and error statuses", "[sdk][status]") {
  const cm_status ok = ok_status();
  CHECK(ok.code == 0);
  CHECK(std::string(ok.message).empty());
  const cm_status error = error_status("tensor 'x' has the wrong shape");
  CHECK(error.code != 0);
  CHECK(std::string(error.message) == "tensor 'x' has the wrong shape");
  CHECK(std::string(error_status(nullptr).message) == "failed without a message");
  CHECK(std::string(error_status("").message) == "failed without a message");
}

TEST_CASE("a long message is truncated to fit without splitting a UTF-8 character", "[sdk][status]") {
  // 1010 ASCII bytes, then 2-byte "é"s: the cut (1023 - 12 = 1011 bytes) falls inside an "é".
  std::string message(1010, 'a');
  for (int i = 0; i < 100; ++i) message += "\xC3\xA9";
  const cm_status status = error_status(message.c_str());
  const std::string text = status.message;
  CHECK(text.size() < CM_STATUS_MESSAGE_CAPACITY);
  CHECK(text.size() == 1010 + 12);  // the "é" straddling the cut is dropped whole
  CHECK(text.substr(text.size() - 12) == " [truncated]");
  CHECK(valid_utf8(text));
  CHECK(text.compare(0, 1010, message, 0, 1010) == 0);
  // Exactly at capacity: kept whole.
  const std::string fits(CM_STATUS_MESSAGE_CAPACITY - 1, 'b');
  CHECK(std::string(error_status(fits.c_str()).message) == fits);
}

TEST_CASE("guarded turns exceptions into statuses", "[sdk][status]") {
  CHECK(guarded([] {}).code == 0);
  const cm_status from_std = guarded([] { throw std::invalid_argument("alpha must be in [0, 1]"); });
  CHECK(from_std.code != 0);
  CHECK(std::string(from_std.message) == "alpha must be in [0, 1]");
  const cm_status from_other = guarded([] { throw 42; });
  CHECK(std::string(from_other.message) == "unknown exception (not derived from std::exception)");
}
