#include "test_crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace compactmind::detail {

void test_crash_point(const char* point) {
  const char* wanted = std::getenv("COMPACTMIND_TEST_CRASH_AT");
  if (wanted != nullptr && std::strcmp(wanted, point) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace compactmind::detail
