// models/tiny-llama3 (Llama-3.2 layout: GQA, tied bf16 embeddings, llama3 RoPE scaling) against its
// reference forward (reference/tiny-llama3.logits.safetensors, README of the fixtures): logits at the
// stored columns, logsumexp and argmax over the whole vocabulary, full rows, hidden states, greedy
// decoding; the 2048-token window that tells scaled RoPE from unscaled; and the perplexity protocol.
#include "llama3_reference.h"

#include "compactmind/generation.h"
#include "compactmind/llama_model.h"
#include "compactmind/perplexity.h"
#include "compactmind/rope_frequencies.h"
#include "compactmind/text_data.h"
#include "compactmind/tokenizer.h"

#include <catch2/catch.hpp>

#include <c10/core/InferenceMode.h>

#include <cmath>

using namespace compactmind;

namespace {

constexpr double kTolerance = 1e-4;  // max abs difference to the reference's float32 logits

const test::Llama3Reference& reference() {
  static const test::Llama3Reference file;
  return file;
}

const LlamaModel& model() {
  static const LlamaModel loaded = LlamaModel::load(test::model_dir("tiny-llama3"));
  return loaded;
}

double max_abs_difference(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Logits of `ids` [1, T] computed in chunks of rows (all 128256 columns of 2048 rows would be 1 GB):
// the final-norm hidden states once, then the tied projection per chunk, as the forward does.
struct ReducedLogits {
  at::Tensor cols;         // [T, n_cols] at the reference's logit_cols
  at::Tensor lse;          // [T]
  at::Tensor argmax;       // [T]
  at::Tensor full_rows;    // [rows, vocab] at `rows`
};

ReducedLogits reduced_logits(const at::Tensor& ids, const at::Tensor& rows, std::vector<at::Tensor>* hidden_states = nullptr) {
  const c10::InferenceMode inference;
  ForwardOptions options;
  options.compute_logits = false;
  options.hidden_states = hidden_states;
  const at::Tensor hidden = model().forward(ids, options)[0];  // [T, hidden]
  const at::Tensor columns = reference()["logit_cols"];
  std::vector<at::Tensor> cols, lse, argmax;
  for (int64_t start = 0; start < hidden.size(0); start += 256) {
    const at::Tensor logits = at::linear(hidden.narrow(0, start, std::min<int64_t>(256, hidden.size(0) - start)),
                                         model().embed_tokens);
    cols.push_back(logits.index_select(1, columns));
    lse.push_back(at::logsumexp(logits, 1));
    argmax.push_back(logits.argmax(1));
  }
  return {at::cat(cols), at::cat(lse), at::cat(argmax), at::linear(hidden.index_select(0, rows), model().embed_tokens)};
}

}  // namespace

TEST_CASE("tiny-llama3: llama3 RoPE frequencies equal transformers'", "[runtime][llama3]") {
  const LlamaConfig& config = model().config;
  CHECK(config.rope_scaling.type == "llama3");
  CHECK(config.tie_word_embeddings);
  CHECK(model().lm_head == nullptr);
  const auto expected = test::read_json(test::fixtures_dir() / "reference" / "tiny-llama3.json")["rope"];
  const at::Tensor scaled = rope_inverse_frequencies(config, 256, at::kCPU);
  const at::Tensor reference_scaled = at::tensor(expected["inv_freq_llama3"].get<std::vector<float>>());
  CHECK(at::allclose(scaled, reference_scaled, /*rtol=*/1e-6, /*atol=*/0));
  LlamaConfig unscaled = config;
  unscaled.rope_scaling = RopeScaling{};
  CHECK(at::allclose(rope_inverse_frequencies(unscaled, 256, at::kCPU),
                     at::tensor(expected["inv_freq_default"].get<std::vector<float>>()), 1e-6, 0));
}

TEST_CASE("linear and dynamic RoPE scaling follow transformers' formulas", "[runtime][rope]") {
  LlamaConfig config = model().config;
  config.rope_scaling = RopeScaling{};
  const at::Tensor plain = rope_inverse_frequencies(config, 100, at::kCPU);
  config.rope_scaling = RopeScaling{"linear", 4.0, 1.0, 1.0, 0};
  CHECK(at::equal(rope_inverse_frequencies(config, 100, at::kCPU), plain / 4.0));
  config.rope_scaling = RopeScaling{"dynamic", 2.0, 1.0, 1.0, 0};
  config.max_position_embeddings = 1000;
  CHECK(at::equal(rope_inverse_frequencies(config, 1000, at::kCPU), plain));  // within the trained context
  CHECK_FALSE(rope_depends_on_length(config, 1000));
  // Beyond it: base · (2 · 3000 / 1000 − 1)^(16 / 14), as _compute_dynamic_ntk_parameters.
  const double base = config.rope_theta * std::pow(5.0, 16.0 / 14.0);
  const at::Tensor exponents = at::arange(0, 16, 2, at::kLong).to(at::kFloat).div(16.0);
  CHECK(at::equal(rope_inverse_frequencies(config, 3000, at::kCPU), at::pow(base, exponents).reciprocal()));
  CHECK(rope_depends_on_length(config, 3000));
}

TEST_CASE("a sliding window shorter than the forward is refused, as long as it is plain attention", "[runtime][llama3]") {
  LlamaModel windowed = model().clone();
  windowed.config.sliding_window = 64;
  const at::Tensor ids = reference()["ids_a"];
  CHECK_THROWS_WITH(windowed.forward(ids), "the model attends to a sliding window of 64 positions (config.json "
                                           "\"sliding_window\"), and this forward reaches 128: sliding-window "
                                           "attention is not implemented; use windows of at most 64 tokens");
  const c10::InferenceMode inference;
  windowed.config.sliding_window = 128;
  CHECK(at::equal(windowed.forward(ids), model().forward(ids)));
}

TEST_CASE("tiny-llama3: logits and hidden states of ids_a and ids_b match the reference", "[runtime][llama3]") {
  const auto& file = reference();
  std::vector<at::Tensor> hidden_states;
  const ReducedLogits a = reduced_logits(file["ids_a"], file["logits_a_rows"], &hidden_states);
  CHECK(max_abs_difference(a.cols, file["logits_a_cols"]) < kTolerance);
  CHECK(max_abs_difference(a.lse, file["logits_a_lse"]) < kTolerance);
  CHECK(at::equal(a.argmax, file["logits_a_argmax"]));
  CHECK(max_abs_difference(a.full_rows, file["logits_a_full_rows"]) < kTolerance);
  const at::Tensor hidden_reference = file["hidden_a"];
  REQUIRE(int64_t(hidden_states.size()) == hidden_reference.size(0));
  for (size_t layer = 0; layer < hidden_states.size(); ++layer) {
    INFO("hidden state " << layer);
    CHECK(max_abs_difference(hidden_states[layer][0], hidden_reference[int64_t(layer)]) < kTolerance);
  }
  // Ignoring rope_scaling is visible here already (up to 0.013 over the whole vocabulary).
  CHECK(max_abs_difference(a.cols, file["logits_a_oldrope_cols"]) > 5e-3);

  const ReducedLogits b = reduced_logits(file["ids_b"], file["logits_b_rows"]);
  CHECK(max_abs_difference(b.cols, file["logits_b_cols"]) < kTolerance);
  CHECK(max_abs_difference(b.lse, file["logits_b_lse"]) < kTolerance);
  CHECK(at::equal(b.argmax, file["logits_b_argmax"]));
  CHECK(max_abs_difference(b.full_rows, file["logits_b_full_rows"]) < kTolerance);
}

TEST_CASE("tiny-llama3: on 2048 positions the logits match scaled RoPE, not unscaled", "[runtime][llama3]") {
  const auto& file = reference();
  const ReducedLogits c = reduced_logits(file["ids_c"], file["logits_c_rows"]);
  const double scaled_difference = max_abs_difference(c.full_rows, file["logits_c_full_rows"]);
  const double unscaled_difference = max_abs_difference(c.full_rows, file["logits_c_oldrope_full_rows"]);
  INFO("max |logits - scaled reference| " << scaled_difference << ", - unscaled reference " << unscaled_difference);
  CHECK(scaled_difference < kTolerance);
  CHECK(unscaled_difference > 0.1);  // 0.148 at position 2047
  CHECK(max_abs_difference(c.lse, file["logits_c_lse"]) < kTolerance);
  CHECK(at::equal(c.argmax, file["logits_c_argmax"]));
  CHECK_FALSE(at::equal(c.argmax, file["logits_c_oldrope_argmax"]));  // 23 of 2048 differ
}

TEST_CASE("tiny-llama3: greedy decoding equals the reference", "[runtime][llama3]") {
  const auto& file = reference();
  const at::Tensor prompt = file["greedy_prompt"];
  const at::Tensor expected = file["greedy_out"];
  GenerationOptions options;
  options.max_new_tokens = expected.size(1) - prompt.size(1);
  options.stop_at_eos = false;  // as the reference: 40 argmax tokens
  const int64_t* prompt_ids = prompt.data_ptr<int64_t>();
  const std::vector<int64_t> output =
      generate_greedy(model(), std::vector<int64_t>(prompt_ids, prompt_ids + prompt.size(1)), options);
  const int64_t* expected_ids = expected.data_ptr<int64_t>();
  CHECK(output == std::vector<int64_t>(expected_ids, expected_ids + expected.size(1)));
}

TEST_CASE("tiny-llama3: the perplexity protocol on the tokenized text gives the reference mean NLL", "[runtime][llama3]") {
  // ids_c is the first 2048 ids of test.txt through tokenizer.json (BOS first): one window of 2048, and
  // its first 128 ids (ids_a) one window of 128. The full-file PPL at seqlen 256 (1170 windows) is
  // checked through the CLI by e2e_llama3_eval_ppl, which takes minutes.
  const Tokenizer tokenizer = Tokenizer::load(test::model_dir("tiny-llama3"));
  const at::Tensor stream = tokenize_file(tokenizer, test::wikitext("test.txt"), tokenizer.add_bos_token()).ids;
  CHECK(at::equal(stream.narrow(0, 0, 2048), reference()["ids_c"][0]));
  const auto figures = test::read_json(test::fixtures_dir() / "reference" / "tiny-llama3.json")["models"]["tiny-llama3"];
  PerplexityOptions options;
  options.show_progress = false;
  options.max_windows = 1;
  for (const auto& [seqlen, key] : {std::pair<int64_t, const char*>{2048, "ids_c_mean_nll"}, {128, "ids_a_mean_nll"}}) {
    options.seqlen = seqlen;
    const PerplexityResult result = evaluate_perplexity(model(), stream, options);
    const double expected = figures[key].get<double>();
    INFO("seqlen " << seqlen << ": mean NLL " << result.mean_nll << ", reference " << expected);
    CHECK(std::abs(result.mean_nll - expected) / expected < 1e-5);
  }
}
