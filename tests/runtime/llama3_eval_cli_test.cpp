// `compactmind eval` on models/tiny-llama3 over the whole of test.txt at seqlen 256 (1170 windows):
// the perplexity of reference/tiny-llama3.json within 1e-5 relative. About 10 TFLOP of logits
// (128256-entry vocabulary), so minutes on 2 cores: labelled e2e, kept out of the runtime_ tests.
#include "fixtures.h"
#include "support/run_host.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

TEST_CASE("compactmind eval reproduces the reference perplexity of tiny-llama3 (seqlen 256, all windows)",
          "[e2e][llama3]") {
  using compactmind::test::fixtures_dir;
  const auto result = compactmind::test::run_host(
      {"eval", "--model", compactmind::test::model_dir("tiny-llama3").string(), "--data",
       compactmind::test::wikitext("test.txt").string(), "--seqlen", "256", "--batch", "4", "--threads", "2", "--json"},
      "OMP_WAIT_POLICY=PASSIVE");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const nlohmann::json report = nlohmann::json::parse(result.out);
  const auto expected = compactmind::test::read_json(fixtures_dir() / "reference" / "tiny-llama3.json")["models"]["tiny-llama3"];
  INFO("ppl " << report["ppl"] << ", reference " << expected["ppl_fp32_seq256"]);
  CHECK(std::abs(report["ppl"].get<double>() - expected["ppl_fp32_seq256"].get<double>()) /
            expected["ppl_fp32_seq256"].get<double>() < 1e-5);
  CHECK(report["windows"] == expected["windows_seq256"]);
  CHECK(report["record"]["token_count"] == 299668);
}
