// Seeded batches of training windows (training.h).
#include "compactmind/training.h"

#include "compactmind/text_data.h"

#include <numeric>
#include <stdexcept>
#include <string>

namespace compactmind {

WindowSampler::WindowSampler(const at::Tensor& token_stream, int64_t seqlen, uint64_t seed)
    : rng_(seed) {
  if (seqlen < 2) {
    throw std::invalid_argument("training: seqlen must be >= 2, got " + std::to_string(seqlen));
  }
  if (token_stream.dim() != 1 || token_stream.size(0) < seqlen) {
    throw std::invalid_argument("training: the training text has " +
                                std::to_string(token_stream.dim() == 1 ? token_stream.size(0) : 0) +
                                " tokens, fewer than one window of seqlen " + std::to_string(seqlen) +
                                " — give a longer --train-data file or a smaller seqlen");
  }
  windows_ = cut_windows(token_stream, seqlen);
  order_.resize(static_cast<size_t>(windows_.size(0)));
  shuffle();
}

void WindowSampler::shuffle() {
  std::iota(order_.begin(), order_.end(), int64_t{0});
  // Fisher–Yates with a plain modulo rather than std::uniform_int_distribution, whose algorithm the
  // standard leaves to each library: the same seed must give the same windows everywhere. The modulo
  // bias is below 2^-40 for any realistic window count.
  for (size_t i = order_.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng_() % i);
    std::swap(order_[i - 1], order_[j]);
  }
  cursor_ = 0;
}

at::Tensor WindowSampler::next_batch(int64_t batch) {
  std::vector<int64_t> picked;
  picked.reserve(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    if (cursor_ == order_.size()) shuffle();
    picked.push_back(order_[cursor_++]);
  }
  const at::Tensor index = at::tensor(picked, at::TensorOptions().dtype(at::kLong));
  return windows_.index_select(0, index);
}

}  // namespace compactmind
