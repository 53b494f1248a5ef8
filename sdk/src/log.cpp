// spdlog stays inside this file: log.h exposes neither spdlog nor fmt (see log.h).
#include "compactmind/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

namespace compactmind {
namespace {

spdlog::logger& logger() {
  // Logs go to stderr so that `--json` output on stdout stays machine-readable.
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto created = spdlog::stderr_color_mt("compactmind");
    created->set_pattern("[%H:%M:%S] [%^%l%$] %v");
    return created;
  }();
  return *instance;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void log(LogLevel level, const std::string& message) {
  switch (level) {
    case LogLevel::kDebug: logger().debug(message); break;
    case LogLevel::kInfo: logger().info(message); break;
    case LogLevel::kWarn: logger().warn(message); break;
    case LogLevel::kError: logger().error(message); break;
  }
}

void set_log_level(LogLevel level) {
  static const spdlog::level::level_enum kLevels[] = {spdlog::level::debug, spdlog::level::info,
                                                      spdlog::level::warn, spdlog::level::err};
  logger().set_level(kLevels[static_cast<int>(level)]);
}

Progress::Progress(std::string what, int64_t total)
    : what_(std::move(what)), total_(total), start_seconds_(now_seconds()) {}

Progress::~Progress() {
  if (!finished_ && last_percent_logged_ >= 0 && isatty(STDERR_FILENO)) std::fputc('\n', stderr);
}

void Progress::update(int64_t done, const std::string& detail) {
  const double elapsed = now_seconds() - start_seconds_;
  const int64_t percent = total_ > 0 ? done * 100 / total_ : 100;
  if (isatty(STDERR_FILENO)) {
    std::fprintf(stderr, "\r%s %lld/%lld (%lld%%) %.1fs %s\033[K", what_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_),
                 static_cast<long long>(percent), elapsed, detail.c_str());
    std::fflush(stderr);
    last_percent_logged_ = percent;
  } else if (percent / 10 > last_percent_logged_ / 10 || last_percent_logged_ < 0) {
    // Not a terminal (CI logs, pipes): one line per 10% keeps logs short.
    std::fprintf(stderr, "%s %lld/%lld (%lld%%) %.1fs %s\n", what_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_),
                 static_cast<long long>(percent), elapsed, detail.c_str());
    last_percent_logged_ = percent;
  }
}

void Progress::finish(const std::string& detail) {
  if (finished_) return;
  update(total_, detail);
  if (isatty(STDERR_FILENO)) std::fputc('\n', stderr);
  finished_ = true;
}

}  // namespace compactmind
