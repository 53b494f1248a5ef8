// `compactmind eval` and `compactmind generate` through the real binary (COMPACTMIND_HOST_BIN).
#include "fixtures.h"
#include "support/run_host.h"

#include "compactmind/text_data.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>

namespace {

using compactmind::test::CommandResult;
using compactmind::test::shell_quote;

// The suite shares 2 cores with other work: OpenMP threads that sleep rather than spin at barriers
// keep two threads from burning each other's time slices (measured 1.5-2x faster under load).
CommandResult run_cli(const std::string& arguments) {
  return compactmind::test::run_shell("OMP_WAIT_POLICY=PASSIVE " + shell_quote(COMPACTMIND_HOST_BIN) + " " + arguments);
}

std::string eval_arguments(const std::string& model, int64_t seqlen, const std::string& extra) {
  return "eval --model " + shell_quote(compactmind::test::model_dir(model).string()) + " --data " +
         shell_quote(compactmind::test::wikitext("test.txt").string()) + " --seqlen " + std::to_string(seqlen) +
         " --threads 2 --json " + extra;
}

}  // namespace

TEST_CASE("compactmind eval reproduces the reference perplexity of tiny-llama2 (seqlen 256, all windows)",
          "[runtime][cli]") {
  const CommandResult run = run_cli(eval_arguments("tiny-llama2", 256, "--batch 32"));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json report = nlohmann::json::parse(run.out);  // exactly one JSON object on stdout
  const auto& reference = compactmind::test::reference_json();
  const double expected = reference["models"]["tiny-llama2"]["ppl_fp32_seq256"].get<double>();
  CHECK(std::abs(report["ppl"].get<double>() - expected) / expected < 1e-4);
  CHECK(report["windows"] == reference["models"]["tiny-llama2"]["windows_seq256"]);
  CHECK(report["tokens"] == 1568 * 256);
  CHECK(report["seqlen"] == 256);
  CHECK(report["threads"] == 2);
  CHECK(report["tokens_per_second"].get<double>() > 0);

  const auto& record = report["record"];
  CHECK(record["data_sha256"] == compactmind::sha256_hex_of_file(compactmind::test::wikitext("test.txt")));
  CHECK(record["token_count"] == reference["tokens"]["test_count"]);
  CHECK(record["bos"] == true);
  CHECK(record["dtype"] == "float32");
  CHECK(record["seqlen"] == 256);
  CHECK(record["windows"] == 1568);
  CHECK(std::filesystem::equivalent(record["model_path"].get<std::string>(),
                                    compactmind::test::model_dir("tiny-llama2")));
  CHECK(std::filesystem::equivalent(record["data_file"].get<std::string>(), compactmind::test::wikitext("test.txt")));
  CHECK(run.err.find("threads: 2") != std::string::npos);
}

TEST_CASE("compactmind eval --max-windows evaluates only the first windows", "[runtime][cli]") {
  const CommandResult few = run_cli(eval_arguments("tiny-gqa", 128, "--max-windows 5 --batch 2"));
  INFO(few.err);
  REQUIRE(few.exit_code == 0);
  const nlohmann::json report = nlohmann::json::parse(few.out);
  CHECK(report["windows"] == 5);
  CHECK(report["tokens"] == 5 * 128);
  CHECK(report["record"]["windows"] == 5);
  // The same 5 windows in one batch give the same figure (batching must not change the result).
  const CommandResult one_batch = run_cli(eval_arguments("tiny-gqa", 128, "--max-windows 5 --batch 5"));
  REQUIRE(one_batch.exit_code == 0);
  const double ppl = report["ppl"].get<double>();
  CHECK(std::abs(nlohmann::json::parse(one_batch.out)["ppl"].get<double>() - ppl) / ppl < 1e-6);
  CHECK(ppl > 1.0);
  CHECK(ppl < 4096.0);  // better than uniform over the vocabulary
}

TEST_CASE("compactmind eval names a missing model folder", "[runtime][cli]") {
  const CommandResult run =
      run_cli("eval --model /nonexistent/cm-model --data " + shell_quote(compactmind::test::wikitext("test.txt").string()) +
              " --seqlen 128");
  CHECK(run.exit_code != 0);
  CHECK(run.err.find("/nonexistent/cm-model") != std::string::npos);
}

TEST_CASE("compactmind generate continues a prompt greedily", "[runtime][cli]") {
  const CommandResult run = run_cli("generate --model " + shell_quote(compactmind::test::model_dir("tiny-llama2").string()) +
                                    " --prompt 'The game was' --max-new-tokens 12 --threads 1");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.rfind("The game was", 0) == 0);          // the prompt, then the continuation
  CHECK(run.out.size() > std::string("The game was\n").size());
  CHECK(run.err.find("threads: 1") != std::string::npos);
  // Greedy decoding is deterministic.
  CHECK(run_cli("generate --model " + shell_quote(compactmind::test::model_dir("tiny-llama2").string()) +
                " --prompt 'The game was' --max-new-tokens 12 --threads 1").out == run.out);
}
