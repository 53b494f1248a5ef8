// Thread control: LibTorch's intra-op pool and OpenBLAS are separate (measured here:
// at::get_num_threads() starts at 1, and OpenBLAS follows OPENBLAS_NUM_THREADS), so set both.
#pragma once

namespace compactmind {

// threads <= 0 means all hardware threads. Returns the count in effect.
int set_threads(int threads);

}  // namespace compactmind
