// The objective of bench_search_efficiency: a cheap model of compressing the fixture checkpoint with
// the real plugins, so samplers can be compared over hundreds of studies in seconds.
//   size: exact, the evaluator's accounting (host/src/model_evaluator.cpp → LlamaModel::stored_bytes)
//         applied to the checkpoint's config.json: float tensors at the checkpoint's dtype, an int8
//         linear = 1 byte per weight + one fp32 scale per output row (smoothquant's per_channel
//         default), llm-pruner removing round(ratio·heads) heads and round(ratio·intermediate)
//         channels in its automatic layer range (pruning_settings.cpp's auto_layer_range).
//   PPL:  a model, not a measurement: pruning damage grows with the removed fraction squared, scaled by
//         importance/aggregation; retraining recovers part of it (learning rate, steps, LoRA settings,
//         distillation temperature each have an optimum); SmoothQuant costs a little, least at its
//         best alpha. Every parameter of the real spaces matters a little, so a sampler that ignores
//         one pays for it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace compactmind::bench {

struct CheckpointShape {
  int64_t vocab = 0, hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0;
  bool tied_embeddings = false;
  int64_t float_bytes = 2;  // bytes per element of the checkpoint's float dtype

  // Reads a Hugging Face config.json; throws std::runtime_error naming the file and the problem.
  static CheckpointShape from_config(const std::string& config_path);
};

struct ModelScore {
  double ppl = 0.0, size_ratio = 1.0;
};

class CompressionModel {
 public:
  explicit CompressionModel(CheckpointShape shape);
  // `pipeline`: resolved steps [{"method": "llm-pruner", ...}, ...] as PipelineSpace::to_pipeline gives.
  ModelScore evaluate(const nlohmann::json& pipeline) const;
  // The lowest PPL of any pipeline with size_ratio ≤ target (INFINITY if none), found by enumerating
  // the categorical choices with every numeric parameter at its modelled optimum and the least pruning
  // that fits; the benchmark checks it against uniform samples.
  double best_feasible_ppl(double target) const;
  int64_t base_bytes() const;

 private:
  int64_t stored_bytes(int64_t heads_removed, int64_t channels_removed, const std::string& target,
                       bool quantized) const;

  CheckpointShape shape_;
  int64_t prune_layers_ = 0;  // layers in llm-pruner's automatic range
};

}  // namespace compactmind::bench
