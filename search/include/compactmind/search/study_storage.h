// A study file in SQLite. Tables:
//   studies(name UNIQUE, objectives JSON, space_fingerprint, space JSON, config JSON, created_at)
//   trials(study_id, number, state, params, pipeline, "values", constraints, intermediates,
//          evaluation, step_times, error, started_at, finished_at, duration_s; PRIMARY KEY(study_id, number))
// A trial row is inserted as 'running' when the trial starts and rewritten in one transaction when it
// ends. Journal: SQLite's default rollback journal with synchronous=FULL, so a study is one file once
// closed and a committed trial survives SIGKILL or power loss (WAL would leave -wal/-shm side files
// that must travel with the study). A StudyStorage holds an exclusive lock on the file for its life
// (a second writer process is refused), and refuses a SQLite database with tables not its own.
#pragma once

#include "compactmind/search/trial.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace compactmind::search {

struct StudyRecord {
  std::string name;
  std::vector<std::string> objectives;
  std::string space_fingerprint;
  nlohmann::json space;   // SearchSpace::to_json(), for the record
  nlohmann::json config;  // free-form: strategy, seed, n_trials, CLI options
  std::string created_at;
};

class StudyStorage {
 public:
  // Opens or creates `path`; throws std::runtime_error naming the file, also when another process
  // holds it open or it is another application's database (left byte for byte as it was).
  explicit StudyStorage(std::string path);
  ~StudyStorage();
  StudyStorage(const StudyStorage&) = delete;
  StudyStorage& operator=(const StudyStorage&) = delete;

  const std::string& path() const { return path_; }
  std::vector<std::string> study_names() const;
  std::optional<StudyRecord> find_study(const std::string& name) const;
  void create_study(const StudyRecord& record);  // throws if the name exists
  std::vector<Trial> load_trials(const std::string& study) const;  // by number
  void write_trial(const std::string& study, const Trial& trial);  // insert or replace, one transaction
  // Deletes the rows of trials left 'running' by a process that died; returns their numbers.
  std::vector<int> remove_running_trials(const std::string& study);

 private:
  int64_t study_id(const std::string& name) const;

  std::string path_;
  sqlite3* db_ = nullptr;
  std::shared_ptr<class StudyFileLock> lock_;  // held while this process has the file open (study_file_lock.h)
};

}  // namespace compactmind::search
