#include "rsp/common/file.hpp"
#include "rsp/common/file_stats.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace rsp {

expected<Bytes, IoError> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(IoError{"cannot open " + path.string()});
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return unexpected(IoError{"cannot read " + path.string()});
  return data;
}

namespace {

std::atomic<std::uint64_t> g_flushes{0};  ///< file_stats.hpp

/// Gives the open file `fd` (named `path`) exactly `perms`, writes `data`,
/// flushes it (data and inode) and closes it; removes it on failure.
expected<void, IoError> fill_and_flush(int fd, const std::filesystem::path& path, ByteView data,
                                       std::filesystem::perms perms) {
  // open() applies the umask; set the exact mode asked for.
  (void)::fchmod(fd, static_cast<mode_t>(perms));
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return unexpected(IoError{"cannot write " + path.string() + ": " + std::strerror(e)});
    }
    off += static_cast<std::size_t>(n);
  }
  g_flushes.fetch_add(1, std::memory_order_relaxed);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    return unexpected(IoError{"cannot flush " + path.string()});
  }
  return {};
}

/// Creates or truncates `path`, writes `data` and flushes it (data and inode).
expected<void, IoError> write_and_flush(const std::filesystem::path& path, ByteView data,
                                        std::filesystem::perms perms) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(perms));
  if (fd < 0) return unexpected(IoError{"cannot create " + path.string() + ": " + std::strerror(errno)});
  return fill_and_flush(fd, path, data, perms);
}

/// Makes the entries of `path`'s folder (a creation, a rename) durable.
void flush_parent(const std::filesystem::path& path) {
  auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    g_flushes.fetch_add(1, std::memory_order_relaxed);
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

std::uint64_t file_flushes() { return g_flushes.load(std::memory_order_relaxed); }
void count_file_flush() { g_flushes.fetch_add(1, std::memory_order_relaxed); }

expected<void, IoError> write_file_atomic(const std::filesystem::path& path, ByteView data,
                                          std::filesystem::perms perms) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  RSP_TRY_VOID(write_and_flush(tmp, data, perms));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return unexpected(IoError{"cannot rename to " + path.string() + ": " + std::strerror(errno)});
  }
  flush_parent(path);
  return {};
}

expected<void, IoError> write_file_new(const std::filesystem::path& path, ByteView data,
                                       std::filesystem::perms perms) {
  // mkostemp makes a fresh name (0600) that no other writer shares.
  std::string tmp = path.string() + ".XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return unexpected(IoError{"cannot create a file beside " + path.string() + ": " + std::strerror(errno)});
  RSP_TRY_VOID(fill_and_flush(fd, tmp, data, perms));
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int e = errno;
  ::unlink(tmp.c_str());
  if (linked != 0)
    return unexpected(IoError{e == EEXIST ? path.string() + " already exists"
                                          : "cannot create " + path.string() + ": " + std::strerror(e)});
  flush_parent(path);
  return {};
}

expected<void, IoError> write_file_durable(const std::filesystem::path& path, ByteView data,
                                           std::filesystem::perms perms) {
  RSP_TRY_VOID(write_and_flush(path, data, perms));
  flush_parent(path);
  return {};
}

}  // namespace rsp
