#include "pruning_settings.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace compactmind::llm_pruner {

namespace {

[[noreturn]] void throw_bad_choice(const std::string& parameter, const std::string& value,
                                   const std::string& choices) {
  throw std::invalid_argument("llm-pruner: " + parameter + "='" + value + "' is not one of {" +
                              choices + "}");
}

}  // namespace

Criterion parse_criterion(const std::string& name) {
  if (name == "l2") return Criterion::kL2;
  if (name == "l1") return Criterion::kL1;
  if (name == "taylor") return Criterion::kTaylor;
  if (name == "random") return Criterion::kRandom;
  throw_bad_choice("importance", name, "l2, l1, taylor, random");
}

Target parse_target(const std::string& name) {
  if (name == "attention") return Target::kAttention;
  if (name == "mlp") return Target::kMlp;
  if (name == "both") return Target::kBoth;
  throw_bad_choice("target", name, "attention, mlp, both");
}

Aggregation parse_aggregation(const std::string& name) {
  if (name == "sum") return Aggregation::kSum;
  if (name == "mean") return Aggregation::kMean;
  if (name == "max") return Aggregation::kMax;
  throw_bad_choice("aggregation", name, "sum, mean, max");
}

std::string to_string(Criterion criterion) {
  switch (criterion) {
    case Criterion::kL2: return "l2";
    case Criterion::kL1: return "l1";
    case Criterion::kTaylor: return "taylor";
    case Criterion::kRandom: return "random";
  }
  return "?";
}

std::string to_string(Target target) {
  switch (target) {
    case Target::kAttention: return "attention";
    case Target::kMlp: return "mlp";
    case Target::kBoth: return "both";
  }
  return "?";
}

std::string to_string(Aggregation aggregation) {
  switch (aggregation) {
    case Aggregation::kSum: return "sum";
    case Aggregation::kMean: return "mean";
    case Aggregation::kMax: return "max";
  }
  return "?";
}

LayerRange auto_layer_range(int64_t depth) {
  if (depth < 3) return {0, depth};
  const auto scaled = [depth](int64_t of_32) {
    return static_cast<int64_t>(std::llround(static_cast<double>(of_32) * depth / 32.0));
  };
  return {std::max<int64_t>(1, scaled(4)), std::min<int64_t>(depth - 1, depth - scaled(2))};
}

void validate_ratio(double ratio) {
  if (!(ratio >= kMinRatio && ratio <= kMaxRatio)) {  // also rejects NaN
    std::ostringstream message;
    message << "llm-pruner: ratio=" << ratio << " is outside the declared space [" << kMinRatio
            << ", " << kMaxRatio << "] (fraction of heads/channels removed in each pruned layer)";
    throw std::invalid_argument(message.str());
  }
}

LayerRange resolve_layer_range(const PruneSettings& settings, int64_t depth) {
  const LayerRange automatic = auto_layer_range(depth);
  const auto check = [depth](const char* parameter, int64_t value, int64_t low, int64_t high) {
    if (value == kAutoLayer) return;
    if (value < low || value > high) {
      std::ostringstream message;
      message << "llm-pruner: " << parameter << "=" << value << " is outside the model's " << depth
              << " decoder layers (valid: " << low << ".." << high << ", or -1 for automatic)";
      throw std::invalid_argument(message.str());
    }
  };
  check("layer_start", settings.layer_start, 0, depth - 1);
  check("layer_end", settings.layer_end, 1, depth);
  LayerRange range{settings.layer_start == kAutoLayer ? automatic.start : settings.layer_start,
                   settings.layer_end == kAutoLayer ? automatic.end : settings.layer_end};
  if (range.start >= range.end) {
    std::ostringstream message;
    message << "llm-pruner: layer_start=" << range.start << " must be below layer_end=" << range.end
            << " (the model has " << depth << " decoder layers; -1 picks [" << automatic.start
            << ", " << automatic.end << "))";
    throw std::invalid_argument(message.str());
  }
  return range;
}

}  // namespace compactmind::llm_pruner
