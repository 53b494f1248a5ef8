// evaluate_perplexity: the reference protocol (per-window mean cross-entropy over seqlen - 1
// predictions, PPL = exp(mean over windows)) checked against a direct computation, plus early stopping
// and divergence detection. The full-file figure of reference.json is checked through the CLI
// (eval_cli_test.cpp).
#include "reference.h"

#include "compactmind/evaluation_record.h"
#include "compactmind/perplexity.h"
#include "compactmind/text_data.h"
#include "compactmind/tokenizer.h"

#include <catch2/catch.hpp>

#include <c10/core/InferenceMode.h>

#include <cmath>
#include <limits>

using namespace compactmind;

namespace {

at::Tensor test_stream() {
  static const at::Tensor stream = [] {
    const Tokenizer tokenizer = Tokenizer::load(test::model_dir("tiny-llama2"));
    return tokenize_file(tokenizer, test::wikitext("test.txt")).ids;
  }();
  return stream;
}

// One window at a time with the library's cross-entropy: an independent path to the same number.
double direct_perplexity(const LlamaModel& model, const at::Tensor& windows) {
  const c10::InferenceMode inference;
  double sum = 0;
  for (int64_t w = 0; w < windows.size(0); ++w) {
    const at::Tensor window = windows[w];
    const at::Tensor logits = model.forward(window.unsqueeze(0))[0];
    const int64_t n = window.size(0) - 1;
    sum += at::cross_entropy_loss(logits.narrow(0, 0, n), window.narrow(0, 1, n)).item<double>();
  }
  return std::exp(sum / static_cast<double>(windows.size(0)));
}

}  // namespace

TEST_CASE("perplexity follows the protocol, batched or not", "[runtime][perplexity]") {
  const LlamaModel model = LlamaModel::load(test::model_dir("tiny-gqa"));
  const at::Tensor stream = test_stream();
  const double expected = direct_perplexity(model, cut_windows(stream, 128, 7));

  PerplexityOptions options;
  options.seqlen = 128;
  options.max_windows = 7;
  options.show_progress = false;
  for (const int64_t batch : {1, 3}) {  // 3 leaves a partial last batch
    options.batch = batch;
    const PerplexityResult result = evaluate_perplexity(model, stream, options);
    INFO("batch " << batch);
    CHECK(result.windows == 7);
    CHECK(result.tokens == 7 * 128);
    CHECK(result.finite);
    CHECK_FALSE(result.stopped_early);
    CHECK(std::abs(result.ppl - expected) / expected < 1e-5);
    CHECK(std::abs(std::log(result.ppl) - result.mean_nll) < 1e-12);
  }
}

TEST_CASE("on_chunk reports progress and can stop an evaluation early", "[runtime][perplexity]") {
  const LlamaModel model = LlamaModel::load(test::model_dir("tiny-gqa"));
  const at::Tensor stream = test_stream();
  std::vector<int64_t> done_reports;
  PerplexityOptions options;
  options.seqlen = 64;
  options.max_windows = 10;
  options.batch = 2;
  options.show_progress = false;
  options.on_chunk = [&](int64_t done, int64_t total, double ppl_so_far) {
    CHECK(total == 10);
    CHECK(ppl_so_far > 1.0);
    done_reports.push_back(done);
    return done < 4;  // stop after the second batch
  };
  const PerplexityResult result = evaluate_perplexity(model, stream, options);
  CHECK(done_reports == std::vector<int64_t>{2, 4});
  CHECK(result.stopped_early);
  CHECK(result.windows == 4);
  CHECK(result.tokens == 4 * 64);
  CHECK(std::abs(result.ppl - direct_perplexity(model, cut_windows(stream, 64, 4))) / result.ppl < 1e-5);
}

TEST_CASE("a diverged model is reported as non-finite", "[runtime][perplexity]") {
  LlamaModel model = LlamaModel::load(test::model_dir("tiny-gqa"));
  model.norm = at::full_like(model.norm, std::numeric_limits<float>::quiet_NaN());
  PerplexityOptions options;
  options.seqlen = 32;
  options.max_windows = 4;
  options.show_progress = false;
  const PerplexityResult result = evaluate_perplexity(model, test_stream(), options);
  CHECK_FALSE(result.finite);
  CHECK(std::isnan(result.ppl));
  CHECK(result.windows == 1);  // stopped at the first bad window
}

TEST_CASE("too short a stream for one window is refused", "[runtime][perplexity]") {
  const LlamaModel model = LlamaModel::load(test::model_dir("tiny-gqa"));
  PerplexityOptions options;
  options.seqlen = 64;
  CHECK_THROWS_WITH(evaluate_perplexity(model, at::arange(10, at::kLong), options),
                    Catch::Contains("fewer than one window of seqlen 64"));
}

TEST_CASE("evaluation records round-trip through JSON and tell comparable scores apart", "[runtime][perplexity]") {
  TokenStream stream;
  stream.ids = at::arange(1000, at::kLong);
  stream.source = test::wikitext("test.txt");
  stream.sha256 = "ab12";
  const EvaluationRecord record = make_evaluation_record(stream, test::model_dir("tiny-gqa"), 128, 7);
  CHECK(record.token_count == 1000);
  CHECK(record.dtype == "float32");
  CHECK(record.model_path.is_absolute());

  const EvaluationRecord parsed = EvaluationRecord::from_json(record.to_json());
  CHECK(parsed.comparable_with(record));
  CHECK(parsed.model_path == record.model_path);

  EvaluationRecord other_model = record;
  other_model.model_path = "/elsewhere/compressed";
  CHECK(other_model.comparable_with(record));  // comparing models is the point
  EvaluationRecord other_windows = record;
  other_windows.windows = 8;
  CHECK_FALSE(other_windows.comparable_with(record));
  EvaluationRecord other_data = record;
  other_data.data_sha256 = "cd34";
  CHECK_FALSE(other_data.comparable_with(record));

  nlohmann::json missing = record.to_json();
  missing.erase("seqlen");
  CHECK_THROWS_WITH(EvaluationRecord::from_json(missing), Catch::Contains("missing \"seqlen\""));

  PerplexityResult result;
  result.ppl = std::numeric_limits<double>::quiet_NaN();
  result.finite = false;
  const nlohmann::json report = perplexity_json(result, record, 2);
  CHECK(report["ppl"].is_null());  // JSON has no NaN
  CHECK(report["finite"] == false);
  CHECK(report["record"]["windows"] == 7);
}
