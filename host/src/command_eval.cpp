// `compactmind eval`: perplexity of a model on a text file with the reference protocol
// (../shared/fixtures/README.md); `--json` prints one object on stdout, logs go to stderr.
#include "compactmind/evaluation_record.h"
#include "compactmind/host/cli_checks.h"
#include "compactmind/host/command.h"
#include "compactmind/host/data_options.h"
#include "compactmind/llama_model.h"
#include "compactmind/log.h"
#include "compactmind/perplexity.h"
#include "compactmind/text_data.h"
#include "compactmind/tokenizer.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

namespace compactmind::host {
namespace {

struct EvalArguments {
  std::string model_dir;
  std::string tokenizer = "auto";
  std::string data_file;
  int64_t seqlen = 2048;
  int64_t max_windows = -1;
  int64_t batch = 1;
  int threads = 0;
  bool oversubscribe = false;
  bool json = false;
};

void run_eval(const EvalArguments& arguments) {
  const int threads = apply_threads(arguments.threads, arguments.oversubscribe);
  log_info("threads: " + std::to_string(threads));
  const LlamaModel model = LlamaModel::load(arguments.model_dir);
  warn_if_beyond_positions("--seqlen", arguments.seqlen, model.config.max_position_embeddings, arguments.model_dir);
  const Tokenizer tokenizer = Tokenizer::load(arguments.model_dir, parse_tokenizer_kind(arguments.tokenizer));
  // One BOS in front as the tokenizer is configured (LLaMA: yes), recorded in the evaluation record.
  const TokenStream stream = tokenize_file(tokenizer, arguments.data_file, tokenizer.add_bos_token());
  log_info("data: " + arguments.data_file + " → " + std::to_string(stream.ids.numel()) + " tokens");

  PerplexityOptions options;
  options.seqlen = arguments.seqlen;
  options.max_windows = arguments.max_windows;
  options.batch = arguments.batch;
  const PerplexityResult result = evaluate_perplexity(model, stream.ids, options);
  const EvaluationRecord record =
      make_evaluation_record(stream, arguments.model_dir, arguments.seqlen, result.windows);
  const nlohmann::json report = perplexity_json(result, record, threads);
  if (arguments.json) {
    std::cout << report.dump() << std::endl;
  } else {
    char line[256];
    std::snprintf(line, sizeof(line), "ppl %.6f over %lld windows of %lld tokens (%.1f tokens/s, %d threads)",
                  result.ppl, static_cast<long long>(result.windows), static_cast<long long>(arguments.seqlen),
                  report["tokens_per_second"].get<double>(), threads);
    std::cout << line << std::endl;
  }
  if (!result.finite) throw std::runtime_error("the model produced a non-finite loss (NaN/Inf)");
}

void setup_eval(CLI::App& app) {
  auto arguments = std::make_shared<EvalArguments>();
  CLI::App* command = app.add_subcommand("eval", "Perplexity of a model on a text file");
  command->add_option("--model", arguments->model_dir, "Hugging Face LLaMA checkpoint folder")
      ->required()->check(CLI::ExistingDirectory);
  add_tokenizer_option(*command, arguments->tokenizer);
  command->add_option("--data", arguments->data_file, "UTF-8 text file, tokenized as one string")
      ->required()->check(CLI::ExistingFile);
  command->add_option("--seqlen", arguments->seqlen, "tokens per window")->required()->check(CLI::Range(2, 1 << 20));
  command->add_option("--max-windows", arguments->max_windows, "evaluate at most this many windows (default all)")
      ->check(positive_count("omit it to evaluate every window"));
  command->add_option("--batch", arguments->batch, "windows per forward pass")->check(CLI::Range(1, 1 << 16));
  add_thread_options(*command, arguments->threads, arguments->oversubscribe);
  command->add_flag("--json", arguments->json, "print one JSON object on stdout");
  command->callback([arguments] { run_eval(*arguments); });
}

}  // namespace
}  // namespace compactmind::host

COMPACTMIND_REGISTER_COMMAND(compactmind::host::setup_eval);
