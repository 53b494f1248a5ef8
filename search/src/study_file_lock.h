// One writer process per study file (internal to study_storage.cpp): an exclusive flock() held while
// any StudyStorage of this process has the file open, shared by those objects (a process may open its
// own study twice), refused to every other process.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace compactmind::search {

class StudyFileLock {
 public:
  // Creates `path` if it does not exist. Throws std::runtime_error naming the file when another
  // process holds it, with the way out.
  static std::shared_ptr<StudyFileLock> acquire(const std::string& path);
  ~StudyFileLock();
  StudyFileLock(const StudyFileLock&) = delete;
  StudyFileLock& operator=(const StudyFileLock&) = delete;

 private:
  StudyFileLock(int fd, dev_t device, ino_t inode) : fd_(fd), device_(device), inode_(inode) {}
  int fd_;
  dev_t device_;
  ino_t inode_;
};

}  // namespace compactmind::search
