#include "study_file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace compactmind::search {
namespace {

// The locks this process holds, by (device, inode): however the path is spelled, one file, one lock.
std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}
std::map<std::pair<dev_t, ino_t>, std::weak_ptr<StudyFileLock>>& registry() {
  static std::map<std::pair<dev_t, ino_t>, std::weak_ptr<StudyFileLock>> locks;
  return locks;
}

}  // namespace

std::shared_ptr<StudyFileLock> StudyFileLock::acquire(const std::string& path) {
  const std::lock_guard<std::mutex> guard(registry_mutex());
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0)
    if (auto held = registry()[{existing.st_dev, existing.st_ino}].lock()) return held;
  // flock(), not fcntl(): SQLite's own locks are POSIX record locks, which flock() does not interact
  // with on Linux, and which closing any other descriptor of the file would drop.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open study file '" + path + "': " + std::strerror(errno));
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int reason = errno;
    ::close(fd);
    if (reason == EWOULDBLOCK)
      throw std::runtime_error("study file '" + path + "' is in use by another compactmind process (one writer at a "
                               "time); wait for it to finish, or use another --storage file");
    throw std::runtime_error("cannot lock study file '" + path + "': " + std::strerror(reason));
  }
  std::shared_ptr<StudyFileLock> lock(new StudyFileLock(fd, opened.st_dev, opened.st_ino));
  registry()[{opened.st_dev, opened.st_ino}] = lock;
  return lock;
}

StudyFileLock::~StudyFileLock() {
  const std::lock_guard<std::mutex> guard(registry_mutex());
  registry().erase({device_, inode_});
  ::close(fd_);
}

}  // namespace compactmind::search
