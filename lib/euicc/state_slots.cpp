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

fs::path slot_path(const fs::path& dir, int slot) { return dir / (slot == 0 ? "state.0" : "state.1"); }

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

/// The header of one slot (nullopt: no file, or no well-formed header).
std::optional<Header> read_header(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::uint8_t buf[kMaxHeader];
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parse_header(ByteView(buf, static_cast<std::size_t>(n)));
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
  const auto other = read_header(slot_path(dir, 1 - stamp.slot));
  return !other || other->seq < stamp.seq;
}

StoreResult<SlotStamp> write_next_slot(const fs::path& dir, const SlotStamp& newest, ByteView body) {
  const int slot = newest.slot == 0 ? 1 : 0;
  const std::uint64_t sum = fnv1a(body);
  const fs::path file = slot_path(dir, slot);
  char header[kMaxHeader];
  const int hn = std::snprintf(header, sizeof header, "%.*s%llu %zu %016llx\n", static_cast<int>(kMagic.size()),
                               kMagic.data(), static_cast<unsigned long long>(newest.seq + 1), body.size(),
                               static_cast<unsigned long long>(sum));
  if (hn <= 0 || static_cast<std::size_t>(hn) >= sizeof header) return unexpected(StoreError{"state header"});
  Bytes data(header, header + hn);
  data.insert(data.end(), body.begin(), body.end());

  bool created = false;
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    created = true;
  }
  if (fd < 0) return unexpected(StoreError{"cannot open " + file.filename().string() + ": " + std::strerror(errno)});
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + off, data.size() - off, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      return unexpected(StoreError{"cannot write " + file.filename().string() + ": " + std::strerror(e)});
    }
    off += static_cast<std::size_t>(n);
  }
  // fdatasync also flushes the file size when the record grew the file.
  count_file_flush();
  const bool synced = (created ? ::fsync(fd) : ::fdatasync(fd)) == 0;
  if (::close(fd) != 0 || !synced) return unexpected(StoreError{"cannot flush " + file.filename().string()});
  // A new slot file exists on disk only once its folder entry is flushed.
  if (created) RSP_TRY_VOID(flush_dir(dir));
  return SlotStamp{newest.seq + 1, slot, sum};
}

}  // namespace rsp::euicc::detail
