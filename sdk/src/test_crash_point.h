// Test-only crash hook: lets a test kill the process at a named instant of a multi-step write and show
// what is left on disk. Inert unless $COMPACTMIND_TEST_CRASH_AT names the point; never set it in use.
#pragma once

namespace compactmind::detail {

// When $COMPACTMIND_TEST_CRASH_AT equals `point`, sends SIGKILL to this process (no destructor, no
// flush, no atexit handler runs: what a power cut or the OOM killer does). Points: "save-before-swap",
// "save-after-swap" (atomic_files.cpp). Also test-only: $COMPACTMIND_TEST_NO_RENAME_EXCHANGE makes a
// save take the two-rename fallback of file systems without RENAME_EXCHANGE.
void test_crash_point(const char* point);

}  // namespace compactmind::detail
