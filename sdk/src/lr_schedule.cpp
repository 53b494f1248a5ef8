// Learning rate: linear warmup then cosine decay (training.h).
#include "compactmind/training.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace compactmind {

double learning_rate_at(int64_t step, int64_t total_steps, int64_t warmup_steps, double peak_lr) {
  if (total_steps <= 0 || step < 0 || step >= total_steps || warmup_steps < 0) {
    throw std::invalid_argument("learning_rate_at: step " + std::to_string(step) + " outside [0, " +
                                std::to_string(total_steps) + ") or negative warmup " +
                                std::to_string(warmup_steps));
  }
  if (step < warmup_steps) return peak_lr * static_cast<double>(step + 1) / warmup_steps;
  const int64_t decay_steps = total_steps - warmup_steps;
  const double progress = static_cast<double>(step - warmup_steps) / decay_steps;
  return peak_lr * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace compactmind
