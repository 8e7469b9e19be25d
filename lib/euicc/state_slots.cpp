// The card state's two slots: read the newest whole record, write the next.

#include "rsp/euicc/state_slots.hpp"

#include "rsp/common/file_stats.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace rsp::euicc::detail {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "rsp-euicc-state 1 ";
constexpr std::size_t kMaxHeader = 96;

const char* slot_name(int slot) { return slot == 0 ? "state.0" : "state.1"; }
fs::path slot_path(const fs::path& dir, int slot) { return dir / slot_name(slot); }

/// FNV-1a, 64 bits: finds torn writes (not an integrity check against attackers,
/// who could rewrite the whole folder anyway).
std::uint64_t fnv1a(ByteView b) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (auto c : b) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

template <class T>
bool parse_field(std::string_view& s, T& out, int base) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  if (ec != std::errc{}) return false;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return true;
}

struct Header {
  std::uint64_t seq = 0, sum = 0;
  std::size_t length = 0;
  std::size_t start = 0;  ///< offset of the body
};

/// The header line at the start of `data`, if well formed.
std::optional<Header> parse_header(ByteView data) {
  if (data.empty()) return std::nullopt;  // a slot cut off before its first byte (memchr needs a real pointer)
  const auto* nl = static_cast<const std::uint8_t*>(std::memchr(data.data(), '\n', std::min(data.size(), kMaxHeader)));
  if (!nl) return std::nullopt;
  std::string_view line(reinterpret_cast<const char*>(data.data()), static_cast<std::size_t>(nl - data.data()));
  if (!line.starts_with(kMagic)) return std::nullopt;
  line.remove_prefix(kMagic.size());
  Header h;
  if (!parse_field(line, h.seq, 10) || !parse_field(line, h.length, 10) || !parse_field(line, h.sum, 16) ||
      !line.empty() || h.seq == 0) {
    return std::nullopt;
  }
  h.start = static_cast<std::size_t>(nl - data.data()) + 1;
  return h;
}

struct Slot {
  bool has_data = false;
  bool whole = false;
  std::uint64_t seq = 0;
  std::uint64_t sum = 0;
  Bytes body;
};

/// The header of the slot open as `fd` (nullopt: no well-formed header).
std::optional<Header> read_header(int fd) {
  std::uint8_t buf[kMaxHeader];
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n <= 0) return std::nullopt;
  return parse_header(ByteView(buf, static_cast<std::size_t>(n)));
}

/// The header of one slot (nullopt: no file, or no well-formed header).
std::optional<Header> read_header(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  auto h = read_header(fd);
  ::close(fd);
  return h;
}

/// `newest` < `other`'s header number, or `other` has none: see is_newest_slot.
bool still_newest(const std::optional<Header>& other, const SlotStamp& stamp) {
  return !other || other->seq < stamp.seq;
}

/// One slot's record, if whole.
StoreResult<Slot> read_slot(const fs::path& file, std::size_t max_size) {
  Slot out;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    return unexpected(StoreError{"cannot open " + file.filename().string() + ": " + std::strerror(errno)});
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return unexpected(StoreError{"cannot read " + file.filename().string()});
  }
  const auto size = std::min<std::size_t>(static_cast<std::size_t>(st.st_size), max_size + kMaxHeader);
  Bytes data(size);
  std::size_t off = 0;
  while (off < size) {
    const ssize_t n = ::pread(fd, data.data() + off, size - off, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data.resize(off);
  out.has_data = !data.empty();
  auto header = parse_header(data);
  if (!header) return out;
  const std::size_t start = header->start, length = header->length;
  if (length > max_size || data.size() - start < length) return out;
  ByteView body(data.data() + start, length);
  if (fnv1a(body) != header->sum) return out;
  out.whole = true;
  out.seq = header->seq;
  out.sum = header->sum;
  data.erase(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(start));
  data.resize(length);
  out.body = std::move(data);
  return out;
}

StoreResult<void> flush_dir(const fs::path& dir) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return unexpected(StoreError{"cannot open the card folder"});
  count_file_flush();
  const bool ok = ::fsync(dfd) == 0;
  ::close(dfd);
  if (!ok) return unexpected(StoreError{"cannot flush the card folder"});
  return {};
}

}  // namespace

StoreResult<SlotRecord> read_newest_slot(const fs::path& dir, std::size_t max_size) {
  SlotRecord out;
  for (int i = 0; i < 2; ++i) {
    RSP_TRY(auto s, read_slot(slot_path(dir, i), max_size));
    out.any_slot_data = out.any_slot_data || s.has_data;
    if (s.whole && s.seq > out.stamp.seq) {
      out.stamp = SlotStamp{s.seq, i, s.sum};
      out.body = std::move(s.body);
    }
  }
  return out;
}

bool is_newest_slot(const fs::path& dir, const SlotStamp& stamp) {
  if (stamp.seq == 0 || stamp.slot < 0) return false;
  // Writers only ever write the slot that does not hold the newest whole
  // record, numbering it above that record: after any write since `stamp`,
  // the other slot's header carries a higher number (a torn write either
  // shows it too, or leaves an older header and `stamp` still the newest).
  return still_newest(read_header(slot_path(dir, 1 - stamp.slot)), stamp);
}

bool is_newest_slot(const SlotFiles& files, const SlotStamp& stamp) {
  if (stamp.seq == 0 || stamp.slot < 0) return false;
  const int other = files.fd[1 - stamp.slot];
  if (other < 0) return false;  // not open: the caller reads the folder
  return still_newest(read_header(other), stamp);
}

namespace {

/// The record `newest.seq + 1` as a slot's bytes: header line and body.
Bytes slot_bytes(const SlotStamp& newest, ByteView body, std::uint64_t sum) {
  char header[kMaxHeader];
  const int hn = std::snprintf(header, sizeof header, "%.*s%llu %zu %016llx\n", static_cast<int>(kMagic.size()),
                               kMagic.data(), static_cast<unsigned long long>(newest.seq + 1), body.size(),
                               static_cast<unsigned long long>(sum));
  if (hn <= 0 || static_cast<std::size_t>(hn) >= sizeof header) return {};
  Bytes data(header, header + hn);
  data.insert(data.end(), body.begin(), body.end());
  return data;
}

/// Writes `data` at the start of the slot open as `fd` and flushes it
/// (fsync for a file just created, whose size is new; fdatasync else, which
/// also flushes the size when the record grew the file).
/// (The slot named by its number, not its path: the held slots' saves build no path.)
StoreResult<void> write_slot(int fd, int slot, ByteView data, bool created) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + off, data.size() - off, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unexpected(StoreError{std::string("cannot write ") + slot_name(slot) + ": " + std::strerror(errno)});
    off += static_cast<std::size_t>(n);
  }
  count_file_flush();
  if ((created ? ::fsync(fd) : ::fdatasync(fd)) != 0)
    return unexpected(StoreError{std::string("cannot flush ") + slot_name(slot)});
  return {};
}

}  // namespace

StoreResult<SlotStamp> write_next_slot(const fs::path& dir, const SlotStamp& newest, ByteView body) {
  const int slot = newest.slot == 0 ? 1 : 0;
  const std::uint64_t sum = fnv1a(body);
  const fs::path file = slot_path(dir, slot);
  const Bytes data = slot_bytes(newest, body, sum);
  if (data.empty()) return unexpected(StoreError{"state header"});

  bool created = false;
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    created = true;
  }
  if (fd < 0) return unexpected(StoreError{"cannot open " + file.filename().string() + ": " + std::strerror(errno)});
  auto written = write_slot(fd, slot, data, created);
  if (::close(fd) != 0 && written) written = unexpected(StoreError{"cannot flush " + file.filename().string()});
  RSP_TRY_VOID(written);
  // A new slot file exists on disk only once its folder entry is flushed.
  if (created) RSP_TRY_VOID(flush_dir(dir));
  return SlotStamp{newest.seq + 1, slot, sum};
}

StoreResult<void> create_slots(const fs::path& dir) {
  bool created = false;
  for (int i = 0; i < 2; ++i) {
    const fs::path file = slot_path(dir, i);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return unexpected(StoreError{"cannot create " + file.filename().string() + ": " + std::strerror(errno)});
    }
    created = true;
    count_file_flush();
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return unexpected(StoreError{"cannot flush " + file.filename().string()});
  }
  if (created) RSP_TRY_VOID(flush_dir(dir));
  return {};
}

SlotFiles::~SlotFiles() { close(); }

void SlotFiles::close() {
  for (int& f : fd) {
    if (f >= 0) ::close(f);
    f = -1;
  }
}

bool SlotFiles::open(const fs::path& dir) {
  for (int i = 0; i < 2; ++i) {
    if (fd[i] >= 0) continue;
    // No access time kept (the header read before each save would update
    // it after every write: an inode change per save); O_NOATIME needs the
    // file's owner, anyone else opens it as usual.
    const fs::path file = slot_path(dir, i);
    fd[i] = ::open(file.c_str(), O_RDWR | O_CLOEXEC | O_NOATIME);
    if (fd[i] < 0 && errno == EPERM) fd[i] = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    if (fd[i] < 0) {
      close();
      return false;
    }
  }
  return true;
}

StoreResult<SlotStamp> write_next_slot(SlotFiles& files, const fs::path& dir, const SlotStamp& newest, ByteView body) {
  const int slot = newest.slot == 0 ? 1 : 0;
  if (files.fd[slot] < 0) return write_next_slot(dir, newest, body);
  const std::uint64_t sum = fnv1a(body);
  const Bytes data = slot_bytes(newest, body, sum);
  if (data.empty()) return unexpected(StoreError{"state header"});
  RSP_TRY_VOID(write_slot(files.fd[slot], slot, data, false));
  return SlotStamp{newest.seq + 1, slot, sum};
}

}  // namespace rsp::euicc::detail
