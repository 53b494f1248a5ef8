#include "compactmind/evaluation_record.h"

#include <cmath>
#include <stdexcept>

namespace compactmind {
namespace {

std::filesystem::path absolute_path(const std::filesystem::path& path) {
  std::error_code error;
  const auto canonical = std::filesystem::weakly_canonical(path, error);
  return error ? std::filesystem::absolute(path) : canonical;
}

template <typename T>
T required(const nlohmann::json& json, const char* key) {
  const auto found = json.find(key);
  if (found == json.end()) throw std::runtime_error(std::string("evaluation record: missing \"") + key + "\"");
  try {
    return found->get<T>();
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(std::string("evaluation record: \"") + key + "\" has the wrong type: " + error.what());
  }
}

// JSON has no NaN: a diverged evaluation is written as null.
nlohmann::json finite_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

nlohmann::json EvaluationRecord::to_json() const {
  return {{"data_file", data_file.string()}, {"data_sha256", data_sha256}, {"token_count", token_count},
          {"bos", bos}, {"dtype", dtype}, {"model_path", model_path.string()}, {"seqlen", seqlen},
          {"windows", windows}};
}

EvaluationRecord EvaluationRecord::from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw std::runtime_error("evaluation record: expected a JSON object");
  EvaluationRecord record;
  record.data_file = required<std::string>(json, "data_file");
  record.data_sha256 = required<std::string>(json, "data_sha256");
  record.token_count = required<int64_t>(json, "token_count");
  record.bos = required<bool>(json, "bos");
  record.dtype = required<std::string>(json, "dtype");
  record.model_path = required<std::string>(json, "model_path");
  record.seqlen = required<int64_t>(json, "seqlen");
  record.windows = required<int64_t>(json, "windows");
  return record;
}

bool EvaluationRecord::comparable_with(const EvaluationRecord& other) const {
  // The data file's path may differ (a copy elsewhere): its bytes are what counts.
  return data_sha256 == other.data_sha256 && token_count == other.token_count && bos == other.bos &&
         dtype == other.dtype && seqlen == other.seqlen && windows == other.windows;
}

EvaluationRecord make_evaluation_record(const TokenStream& stream, const std::filesystem::path& model_path,
                                        int64_t seqlen, int64_t windows) {
  EvaluationRecord record;
  record.data_file = absolute_path(stream.source);
  record.data_sha256 = stream.sha256;
  record.token_count = stream.ids.numel();
  record.bos = stream.bos;
  record.model_path = absolute_path(model_path);
  record.seqlen = seqlen;
  record.windows = windows;
  return record;
}

nlohmann::json perplexity_json(const PerplexityResult& result, const EvaluationRecord& record, int threads) {
  const double tokens_per_second = result.seconds > 0 ? static_cast<double>(result.tokens) / result.seconds : 0.0;
  return {{"ppl", finite_or_null(result.ppl)},
          {"mean_nll", finite_or_null(result.mean_nll)},
          {"windows", result.windows},
          {"tokens", result.tokens},
          {"seqlen", record.seqlen},
          {"seconds", result.seconds},
          {"tokens_per_second", tokens_per_second},
          {"threads", threads},
          {"finite", result.finite},
          {"stopped_early", result.stopped_early},
          {"record", record.to_json()}};
}

}  // namespace compactmind
