// What a perplexity figure was computed on, so that two scores are only compared when they measured
// the same thing: the same data bytes, tokenized the same way, cut into the same windows, in the same
// compute dtype. Used by `compactmind eval --json` and by the pipeline's evaluator.
#pragma once

#include "compactmind/perplexity.h"
#include "compactmind/text_data.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace compactmind {

struct EvaluationRecord {
  std::filesystem::path data_file;  // absolute
  std::string data_sha256;          // of the file's bytes
  int64_t token_count = 0;          // length of the whole token stream (BOS included)
  bool bos = true;                  // one BOS prepended to the stream
  std::string dtype = "float32";    // compute dtype
  std::filesystem::path model_path; // absolute
  int64_t seqlen = 0;
  int64_t windows = 0;              // windows evaluated

  nlohmann::json to_json() const;
  // Errors name the missing or mistyped key.
  static EvaluationRecord from_json(const nlohmann::json& json);
  // True when both scores came from the same windows of the same tokens (the model may differ: that is
  // what one compares).
  bool comparable_with(const EvaluationRecord& other) const;
};

EvaluationRecord make_evaluation_record(const TokenStream& stream, const std::filesystem::path& model_path,
                                        int64_t seqlen, int64_t windows);

// One object: ppl, mean_nll, windows, tokens, seqlen, seconds, tokens_per_second, threads, finite,
// stopped_early and "record" (the EvaluationRecord).
nlohmann::json perplexity_json(const PerplexityResult& result, const EvaluationRecord& record, int threads);

}  // namespace compactmind
