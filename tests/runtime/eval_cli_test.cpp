// `compactmind eval` and `compactmind generate` through the real binary (COMPACTMIND_HOST_BIN).
#include "fixtures.h"

#include "compactmind/text_data.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string quoted(const std::string& text) {
  std::string result = "'";
  for (const char c : text) result += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return result + "'";
}

// Runs the CLI with `arguments`, stdout captured through a pipe and stderr through a file in a
// directory of this test's own.
CommandResult run_cli(const std::string& arguments) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("cm-eval-cli-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  const auto err_file = dir / "stderr.txt";
  // The suite shares 2 cores with other work: OpenMP threads that sleep rather than spin at barriers
  // keep two threads from burning each other's time slices (measured 1.5-2x faster under load).
  const std::string command = "OMP_WAIT_POLICY=PASSIVE " + quoted(COMPACTMIND_HOST_BIN) + " " + arguments +
                              " 2>" + quoted(err_file.string());
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  return result;
}

std::string eval_arguments(const std::string& model, int64_t seqlen, const std::string& extra) {
  return "eval --model " + quoted(compactmind::test::model_dir(model).string()) + " --data " +
         quoted(compactmind::test::test_text().string()) + " --seqlen " + std::to_string(seqlen) +
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
  CHECK(record["data_sha256"] == compactmind::sha256_hex_of_file(compactmind::test::test_text()));
  CHECK(record["token_count"] == reference["tokens"]["test_count"]);
  CHECK(record["bos"] == true);
  CHECK(record["dtype"] == "float32");
  CHECK(record["seqlen"] == 256);
  CHECK(record["windows"] == 1568);
  CHECK(std::filesystem::equivalent(record["model_path"].get<std::string>(),
                                    compactmind::test::model_dir("tiny-llama2")));
  CHECK(std::filesystem::equivalent(record["data_file"].get<std::string>(), compactmind::test::test_text()));
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
      run_cli("eval --model /nonexistent/cm-model --data " + quoted(compactmind::test::test_text().string()) +
              " --seqlen 128");
  CHECK(run.exit_code != 0);
  CHECK(run.err.find("/nonexistent/cm-model") != std::string::npos);
}

TEST_CASE("compactmind generate continues a prompt greedily", "[runtime][cli]") {
  const CommandResult run = run_cli("generate --model " + quoted(compactmind::test::model_dir("tiny-llama2").string()) +
                                    " --prompt 'The game was' --max-new-tokens 12 --threads 1");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.rfind("The game was", 0) == 0);          // the prompt, then the continuation
  CHECK(run.out.size() > std::string("The game was\n").size());
  CHECK(run.err.find("threads: 1") != std::string::npos);
  // Greedy decoding is deterministic.
  CHECK(run_cli("generate --model " + quoted(compactmind::test::model_dir("tiny-llama2").string()) +
                " --prompt 'The game was' --max-new-tokens 12 --threads 1").out == run.out);
}
