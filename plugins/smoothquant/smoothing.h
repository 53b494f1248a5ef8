// SmoothQuant's two steps on a LLaMA model, separate from the plugin's entry point so that tests can
// run each alone (e.g. smoothing without quantization must not change the model's function).
#pragma once

#include "compactmind/int8_linear.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/w8a8_scheme.h"

namespace compactmind::smoothquant {

// Migrates activation outliers into the weights, as smooth_lm in mit-han-lab/smoothquant
// (smooth.py) does for LLaMA: per decoder layer, input_layernorm into q/k/v and
// post_attention_layernorm into gate/up, with s_j = max|X_j|^α / max|W_j|^(1-α).
// `act_scales` holds each linear's per-input-channel abs-max (collect_activation_abs_max).
void smooth_llama(LlamaModel& model, const ActivationStats& act_scales, double alpha);

// Rounds the decoder layers' norm weights to the checkpoint's float dtype (`storage_dtype` of
// config.json: "float16", "bfloat16" or "float32"). After smoothing they are the only float tensors
// that changed, so the quantized model then saves in that dtype without loss and reloads to the same
// perplexity; the reference, which runs in fp16, holds smoothed norms in fp16 too.
void round_norms_to_storage_dtype(LlamaModel& model);

// Replaces every decoder linear (q/k/v/o, gate/up/down) with an Int8Linear; lm_head stays float, as
// quantize_llama_like in SmoothQuant's fake_quant.py. Records `scheme` as the model's
// quantization_config, so that a saved model reloads with the same layers. Returns the number of
// layers converted.
int64_t quantize_llama_w8a8(LlamaModel& model, const W8A8Scheme& scheme);

}  // namespace compactmind::smoothquant
