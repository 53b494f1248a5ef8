// Logging and terminal progress for the SDK, plugins and host. Deliberately includes neither spdlog
// nor fmt: torch builds bundle their own fmt (torch 2.x ships fmt 12), and a file that sees both
// fails to compile.
#pragma once

#include <cstdint>
#include <string>

namespace compactmind {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void log(LogLevel level, const std::string& message);
inline void log_debug(const std::string& m) { log(LogLevel::kDebug, m); }
inline void log_info(const std::string& m) { log(LogLevel::kInfo, m); }
inline void log_warn(const std::string& m) { log(LogLevel::kWarn, m); }
inline void log_error(const std::string& m) { log(LogLevel::kError, m); }
void set_log_level(LogLevel level);

// A one-line progress display on stderr: redrawn in place on a terminal, a line every ~10% otherwise.
class Progress {
 public:
  Progress(std::string what, int64_t total);
  ~Progress();
  void update(int64_t done, const std::string& detail = "");
  void finish(const std::string& detail = "");

 private:
  std::string what_;
  int64_t total_;
  int64_t last_percent_logged_ = -1;
  double start_seconds_;
  bool finished_ = false;
};

}  // namespace compactmind
