#include "compactmind/threads.h"

#include <ATen/Parallel.h>

#include <thread>

// OpenBLAS's runtime setter; declared here rather than via cblas.h to avoid a build dependency on
// the OpenBLAS headers. Weak: when LibTorch uses another BLAS, the symbol is absent and skipped.
extern "C" void openblas_set_num_threads(int num_threads) __attribute__((weak));

namespace compactmind {

int set_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads);
  return at::get_num_threads();
}

}  // namespace compactmind
