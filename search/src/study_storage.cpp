#include "compactmind/search/study_storage.h"

#include "study_file_lock.h"

#include <sqlite3.h>

#include <cstring>
#include <map>
#include <set>
#include <stdexcept>

namespace compactmind::search {
namespace {

// One prepared statement, finalised on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, const std::string& path) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement_, nullptr) != SQLITE_OK)
      throw std::runtime_error("study file '" + path + "': " + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& text) {
    check(sqlite3_bind_text(statement_, index, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int index, int64_t value) {
    check(sqlite3_bind_int64(statement_, index, value));
    return *this;
  }
  Statement& bind(int index, double value) {
    check(sqlite3_bind_double(statement_, index, value));
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error("study file '" + path_ + "': " + sqlite3_errmsg(db_));
  }
  std::string text(int column) const {
    const auto* value = sqlite3_column_text(statement_, column);
    return value ? reinterpret_cast<const char*>(value) : "";
  }
  int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  double real(int column) const { return sqlite3_column_double(statement_, column); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error("study file '" + path_ + "': " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* statement_ = nullptr;
};

void execute(sqlite3* db, const std::string& sql, const std::string& path) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw std::runtime_error("study file '" + path + "': " + text);
  }
}

nlohmann::json parse_column(const std::string& text, const std::string& path, const std::string& what) {
  if (text.empty()) return nullptr;
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error("study file '" + path + "': corrupt " + what + ": " + error.what());
  }
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS studies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  objectives TEXT NOT NULL,
  space_fingerprint TEXT NOT NULL,
  space TEXT NOT NULL,
  config TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  study_id INTEGER NOT NULL REFERENCES studies(id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  "values" TEXT NOT NULL,
  constraints TEXT NOT NULL,
  intermediates TEXT NOT NULL,
  evaluation TEXT NOT NULL,
  step_times TEXT NOT NULL,
  error TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  duration_s REAL NOT NULL,
  PRIMARY KEY (study_id, number));
)sql";

// The tables (and their columns) kSchema creates, and the table AUTOINCREMENT adds.
const std::map<std::string, std::set<std::string>>& our_tables() {
  static const std::map<std::string, std::set<std::string>> kTables = {
      {"studies", {"id", "name", "objectives", "space_fingerprint", "space", "config", "created_at"}},
      {"trials",
       {"study_id", "number", "state", "params", "pipeline", "values", "constraints", "intermediates", "evaluation",
        "step_times", "error", "started_at", "finished_at", "duration_s"}},
      {"sqlite_sequence", {"name", "seq"}}};
  return kTables;
}

// Another application's SQLite database is refused before anything is written to it (no table
// added, not even the journal mode changed): every table must be one of ours, with our columns.
void refuse_foreign_database(sqlite3* db, const std::string& path) {
  std::vector<std::string> tables;
  {
    Statement query(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", path);
    while (query.step()) tables.push_back(query.text(0));
  }
  const std::string refusal = "study file '" + path + "' is not a CompactMind study (another application's SQLite "
                              "database?): ";
  const std::string way_out = "; it was left untouched — choose another --storage file";
  for (const auto& table : tables) {
    const auto ours = our_tables().find(table);
    if (ours == our_tables().end())
      throw std::runtime_error(refusal + "it holds a table '" + table + "' CompactMind never creates" + way_out);
    std::set<std::string> columns;
    Statement query(db, "SELECT name FROM pragma_table_info(?)", path);
    query.bind(1, table);
    while (query.step()) columns.insert(query.text(0));
    if (columns != ours->second)
      throw std::runtime_error(refusal + "its table '" + table + "' has other columns than a study's" + way_out);
  }
}

}  // namespace

StudyStorage::StudyStorage(std::string path) : path_(std::move(path)) {
  // One writer process per study file: two processes resuming one study would otherwise run the
  // same trial numbers and overwrite each other's rows (until the file gets real multi-writer
  // semantics). Taken before SQLite touches the file.
  lock_ = StudyFileLock::acquire(path_);
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open study file '" + path_ + "': " + message);
  }
  try {
    // A reader (a report, a second terminal) waits for a writer instead of failing at once.
    sqlite3_busy_timeout(db_, 10000);
    try {
      refuse_foreign_database(db_, path_);
      execute(db_, "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;", path_);
      execute(db_, kSchema, path_);
    } catch (const std::runtime_error& error) {
      if (std::strstr(error.what(), "is not a CompactMind study") != nullptr) throw;
      throw std::runtime_error(std::string(error.what()) + " (is it a CompactMind study file?)");
    }
  } catch (const std::runtime_error&) {
    sqlite3_close(db_);
    throw;
  }
}

// The lock member is released after this body: SQLite's handle is closed first.
StudyStorage::~StudyStorage() { sqlite3_close(db_); }

std::vector<std::string> StudyStorage::study_names() const {
  Statement query(db_, "SELECT name FROM studies ORDER BY id", path_);
  std::vector<std::string> names;
  while (query.step()) names.push_back(query.text(0));
  return names;
}

std::optional<StudyRecord> StudyStorage::find_study(const std::string& name) const {
  Statement query(db_, "SELECT objectives, space_fingerprint, space, config, created_at FROM studies WHERE name = ?",
                  path_);
  query.bind(1, name);
  if (!query.step()) return std::nullopt;
  StudyRecord record;
  record.name = name;
  record.objectives = parse_column(query.text(0), path_, "objectives").get<std::vector<std::string>>();
  record.space_fingerprint = query.text(1);
  record.space = parse_column(query.text(2), path_, "space");
  record.config = parse_column(query.text(3), path_, "config");
  record.created_at = query.text(4);
  return record;
}

void StudyStorage::create_study(const StudyRecord& record) {
  if (find_study(record.name))
    throw std::runtime_error("study file '" + path_ + "' already holds a study named '" + record.name + "'");
  Statement insert(db_,
                   "INSERT INTO studies (name, objectives, space_fingerprint, space, config, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   path_);
  insert.bind(1, record.name)
      .bind(2, nlohmann::json(record.objectives).dump())
      .bind(3, record.space_fingerprint)
      .bind(4, record.space.dump())
      .bind(5, record.config.dump())
      .bind(6, record.created_at.empty() ? utc_now_iso8601() : record.created_at);
  insert.step();
}

int64_t StudyStorage::study_id(const std::string& name) const {
  Statement query(db_, "SELECT id FROM studies WHERE name = ?", path_);
  query.bind(1, name);
  if (!query.step()) throw std::runtime_error("study file '" + path_ + "' holds no study named '" + name + "'");
  return query.integer(0);
}

std::vector<Trial> StudyStorage::load_trials(const std::string& study) const {
  Statement query(db_,
                  "SELECT number, state, params, pipeline, \"values\", constraints, intermediates, evaluation, "
                  "step_times, error, started_at, finished_at, duration_s FROM trials WHERE study_id = ? "
                  "ORDER BY number",
                  path_);
  query.bind(1, study_id(study));
  std::vector<Trial> trials;
  while (query.step()) {
    nlohmann::json record = {{"number", query.integer(0)},
                             {"state", query.text(1)},
                             {"params", parse_column(query.text(2), path_, "params")},
                             {"pipeline", parse_column(query.text(3), path_, "pipeline")},
                             {"values", parse_column(query.text(4), path_, "values")},
                             {"constraints", parse_column(query.text(5), path_, "constraints")},
                             {"intermediates", parse_column(query.text(6), path_, "intermediates")},
                             {"evaluation", parse_column(query.text(7), path_, "evaluation")},
                             {"step_times", parse_column(query.text(8), path_, "step_times")},
                             {"error", query.text(9)},
                             {"started_at", query.text(10)},
                             {"finished_at", query.text(11)},
                             {"duration_s", query.real(12)}};
    try {
      trials.push_back(trial_from_json(record));
    } catch (const std::invalid_argument& error) {
      throw std::runtime_error("study file '" + path_ + "': trial " + std::to_string(query.integer(0)) + ": " +
                               error.what());
    }
  }
  return trials;
}

void StudyStorage::write_trial(const std::string& study, const Trial& trial) {
  const int64_t id = study_id(study);
  const nlohmann::json record = to_json(trial);
  execute(db_, "BEGIN IMMEDIATE", path_);
  try {
    Statement upsert(db_,
                     "INSERT OR REPLACE INTO trials (study_id, number, state, params, pipeline, \"values\", "
                     "constraints, intermediates, evaluation, step_times, error, started_at, finished_at, "
                     "duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     path_);
    upsert.bind(1, id)
        .bind(2, static_cast<int64_t>(trial.number))
        .bind(3, to_string(trial.state))
        .bind(4, record["params"].dump())
        .bind(5, record["pipeline"].dump())
        .bind(6, record["values"].dump())
        .bind(7, record["constraints"].dump())
        .bind(8, record["intermediates"].dump())
        .bind(9, record["evaluation"].dump())
        .bind(10, record["step_times"].dump())
        .bind(11, trial.error)
        .bind(12, trial.started_at)
        .bind(13, trial.finished_at)
        .bind(14, trial.duration_s);
    upsert.step();
    execute(db_, "COMMIT", path_);
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<int> StudyStorage::remove_running_trials(const std::string& study) {
  const int64_t id = study_id(study);
  std::vector<int> numbers;
  {
    Statement query(db_, "SELECT number FROM trials WHERE study_id = ? AND state = 'running' ORDER BY number", path_);
    query.bind(1, id);
    while (query.step()) numbers.push_back(static_cast<int>(query.integer(0)));
  }
  Statement remove(db_, "DELETE FROM trials WHERE study_id = ? AND state = 'running'", path_);
  remove.bind(1, id);
  remove.step();
  return numbers;
}

}  // namespace compactmind::search
