// Gradients of the causal-LM loss for LLM-Pruner's first-order Taylor importance.
#pragma once

#include "compactmind/llama_model.h"

#include <ATen/ATen.h>

#include <vector>

namespace compactmind::llm_pruner {

// ∂L/∂W for each of `weights` (tensors of `model`'s dense linears), L = the mean next-token
// cross-entropy over the calibration `windows` [N, L] — what LLM-Pruner's single backward over its
// 10 × 64-token samples computes. Memory-aware: one window per forward/backward (activations of one
// window at a time, gradients accumulated), and only `weights` require grad, so autograd records
// nothing before the first pruned layer and keeps a single float32 gradient per pruned weight.
// The weights' requires_grad flags are restored afterwards, also on error.
std::vector<at::Tensor> causal_lm_gradients(const LlamaModel& model,
                                            const std::vector<at::Tensor>& weights,
                                            const at::Tensor& windows);

}  // namespace compactmind::llm_pruner
