#include "compactmind/sequential_calibration.h"

#include "compactmind/log.h"

#include <c10/core/InferenceMode.h>

#include <stdexcept>

namespace compactmind {

void calibrate_sequentially(LlamaModel& model, const at::Tensor& windows, const LayerInputObserver& observe,
                            const std::function<void(size_t layer_index)>& compress_layer, int64_t batch) {
  if (!windows.defined() || windows.dim() != 2 || windows.size(0) == 0)
    throw std::invalid_argument("sequential calibration needs [windows, seqlen] calibration windows, got " +
                                (windows.defined() ? c10::str(windows.sizes()) : std::string("nothing")));
  if (batch < 1) throw std::invalid_argument("sequential calibration batch must be ≥ 1, got " + std::to_string(batch));
  const int64_t count = windows.size(0);
  at::Tensor hidden;
  {
    c10::InferenceMode inference;
    hidden = model.embed(windows);
  }
  Progress progress("sequential calibration (layers)", int64_t(model.layers.size()));
  for (size_t index = 0; index < model.layers.size(); ++index) {
    {
      c10::InferenceMode inference;
      const LinearInputObserver observer = [&](const std::string& name, const at::Tensor& input) {
        observe(index, name, input);
      };
      ForwardOptions options;
      options.observer = &observer;
      for (int64_t start = 0; start < count; start += batch)
        model.forward_layer(index, hidden.slice(0, start, std::min(count, start + batch)), options);
    }
    compress_layer(index);
    {
      c10::InferenceMode inference;
      at::Tensor next = at::empty_like(hidden);
      for (int64_t start = 0; start < count; start += batch) {
        const int64_t end = std::min(count, start + batch);
        next.slice(0, start, end).copy_(model.forward_layer(index, hidden.slice(0, start, end)));
      }
      hidden = next;
    }
    progress.update(int64_t(index + 1));
  }
}

}  // namespace compactmind
