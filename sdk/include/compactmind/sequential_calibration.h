// Layer-by-layer calibration, the driver of the per-layer methods' reference code (GPTQ's
// llama_sequential, SparseGPT's, Wanda's prune_wanda): the calibration windows' embeddings enter
// decoder layer 0; for each layer i in order,
//   1. layer i runs on the current hidden states with `observe` called on the input of each of its
//      linears (the inputs reflect every layer before i as already compressed),
//   2. `compress_layer(i)` changes layer i (it may swap its linears),
//   3. layer i runs again, now compressed, to give the hidden states layer i + 1 receives.
// The hidden states of all windows are kept ([windows, seqlen, hidden] float32), as the references
// keep `inps`; each layer runs on `batch` windows at a time under inference mode.
#pragma once

#include "compactmind/llama_model.h"

#include <ATen/ATen.h>

#include <functional>
#include <string>

namespace compactmind {

// `linear_name` is the HF module name ("model.layers.3.mlp.up_proj"); `input` [batch, seq, in].
using LayerInputObserver =
    std::function<void(size_t layer_index, const std::string& linear_name, const at::Tensor& input)>;

void calibrate_sequentially(LlamaModel& model, const at::Tensor& windows, const LayerInputObserver& observe,
                            const std::function<void(size_t layer_index)>& compress_layer, int64_t batch = 4);

}  // namespace compactmind
