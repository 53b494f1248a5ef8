// `compactmind run`: applies a pipeline to a copy of a model, evaluates it, prints PPL, size, size
// ratio, per-step times and the evaluation record (`--json`: one object on stdout), and saves it with
// --save (docs/cli.md).
#include "compactmind/host/command.h"
#include "compactmind/host/data_options.h"
#include "compactmind/host/model_evaluator.h"
#include "compactmind/host/pipeline.h"
#include "compactmind/host/pipeline_executor.h"
#include "compactmind/log.h"
#include "compactmind/save_target.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

namespace compactmind::host {
namespace {

struct RunArguments {
  DataOptions data;
  std::string pipeline;
  std::string save_dir;
  bool overwrite = false;
  bool json = false;
  bool compare_base = false;
};

std::string megabytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

void print_text(const Pipeline& pipeline, const ExecutedPipeline& executed, const ModelScore& score,
                const PipelineExecutor& executor, const RunArguments& arguments) {
  char line[512];
  std::cout << "pipeline: " << pipeline.describe() << "\n";
  for (size_t i = 0; i < executed.steps.size(); ++i) {
    const StepRecord& step = executed.steps[i];
    std::snprintf(line, sizeof(line), "  step %zu  %-14s %8.2f s  ", i + 1, step.method.c_str(), step.seconds);
    std::cout << line << step.params.dump() << "\n";
  }
  const auto& record = score.evaluation.at("record");
  std::snprintf(line, sizeof(line), "ppl %.4f over %lld windows of %lld tokens (%.1f s)", score.perplexity.ppl,
                static_cast<long long>(score.perplexity.windows), static_cast<long long>(executor.options().seqlen),
                score.perplexity.seconds);
  std::cout << line << "\n";
  std::snprintf(line, sizeof(line), "size %s (%lld bytes as saved in %s), %.4f of the base's %s; %lld parameters",
                megabytes(score.size_bytes).c_str(), static_cast<long long>(score.size_bytes),
                executor.base().config.storage_dtype.c_str(), score.size_ratio,
                megabytes(executor.base_stored_bytes()).c_str(), static_cast<long long>(score.parameters));
  std::cout << line << "\n";
  std::cout << "evaluation record: " << record.dump() << "\n";
  if (!arguments.save_dir.empty()) std::cout << "saved to " << arguments.save_dir << "\n";
}

void run_pipeline(RunArguments& arguments) {
  resolve_data_defaults(arguments.data, /*default_model=*/false);
  // Before anything is loaded: a refused --save must not cost a whole compression first.
  if (!arguments.save_dir.empty()) check_save_target(arguments.save_dir, arguments.overwrite, arguments.data.model_dir);
  DiscoveryOptions discovery;
  discovery.plugin_dirs.assign(arguments.data.plugin_dirs.begin(), arguments.data.plugin_dirs.end());
  const PluginRegistry registry = PluginRegistry::discover(discovery);
  // Validated before the model is loaded: a typo costs milliseconds.
  const Pipeline pipeline = resolve_pipeline(read_pipeline_json(arguments.pipeline), registry);
  log_info("pipeline: " + pipeline.describe());

  const auto start = std::chrono::steady_clock::now();
  const PipelineExecutor executor(arguments.data, registry);
  const ExecutedPipeline executed = executor.execute(pipeline, arguments.data.seed, [](const StepRecord& step) {
    char line[128];
    std::snprintf(line, sizeof(line), "step %s done in %.2f s", step.method.c_str(), step.seconds);
    log_info(line);
  });
  ScoreOptions score_options;
  score_options.max_windows = arguments.data.max_windows;
  score_options.batch = arguments.data.batch;
  const ModelScore score = score_model(executor, executed.model, score_options);
  std::optional<BaseAgreement> agreement;
  if (arguments.compare_base)
    agreement = compare_with_base(executor, executed.model, arguments.data.max_windows, arguments.data.batch);
  if (!arguments.save_dir.empty()) {
    SaveOptions save;
    save.float_dtype = executor.storage_dtype();
    save.overwrite = arguments.overwrite;
    executed.model.save(arguments.save_dir, save);
    log_info("saved the compressed model to " + arguments.save_dir);
  }
  const double total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (!arguments.json) {
    print_text(pipeline, executed, score, executor, arguments);
    if (agreement)
      std::printf("against the base on the same windows: KL %.5f nats/token, top-1 agreement %.4f (%lld tokens)\n",
                  agreement->kl_divergence, agreement->top1_agreement, static_cast<long long>(agreement->tokens));
    return;
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : executed.steps)
    steps.push_back({{"method", step.method}, {"params", step.params}, {"seconds", step.seconds}});
  nlohmann::json report = {
      {"model", arguments.data.model_dir},
      {"pipeline", pipeline.to_json()},
      {"steps", steps},
      {"ppl", score.perplexity.ppl},
      {"size_bytes", score.size_bytes},
      {"base_size_bytes", executor.base_stored_bytes()},
      {"size_ratio", score.size_ratio},
      {"parameters", score.parameters},
      {"base_parameters", executor.base().parameter_count()},
      {"storage_dtype", executor.base().config.storage_dtype},
      {"evaluation", score.evaluation},
      {"threads", executor.threads()},
      {"seed", arguments.data.seed},
      {"saved", arguments.save_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(arguments.save_dir)},
      {"seconds", total_seconds}};
  if (agreement)
    report["base_agreement"] = {{"kl_divergence", agreement->kl_divergence},
                                {"top1_agreement", agreement->top1_agreement},
                                {"tokens", agreement->tokens}};
  std::cout << report.dump() << std::endl;
}

void setup_run(CLI::App& app) {
  auto arguments = std::make_shared<RunArguments>();
  CLI::App* command = app.add_subcommand(
      "run", "Apply a compression pipeline to a copy of a model, evaluate it and optionally save it");
  command->add_option("--model", arguments->data.model_dir, "Hugging Face LLaMA checkpoint folder")->required();
  command->add_option("--pipeline", arguments->pipeline,
                      "pipeline: a JSON file or inline JSON, [{\"method\": NAME, ...params}, ...] (configs/)")
      ->required();
  add_data_options(*command, arguments->data, /*underscore_aliases=*/false);
  command->add_option("--save", arguments->save_dir, "write the compressed model to this folder (atomically)");
  command->add_flag("--overwrite", arguments->overwrite,
                    "with --save: replace the model already saved in that folder (never another kind of folder, "
                    "never --model)");
  command->add_flag("--compare-base", arguments->compare_base,
                    "also report KL divergence and top-1 agreement against the base on the same windows");
  command->add_flag("--json", arguments->json, "print one JSON object on stdout (logs go to stderr)");
  command->callback([arguments] { run_pipeline(*arguments); });
}

}  // namespace
}  // namespace compactmind::host

COMPACTMIND_REGISTER_COMMAND(compactmind::host::setup_run);
