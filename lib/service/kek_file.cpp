#include "rsp/service/kek_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "rsp/common/file.hpp"
#include "rsp/crypto/random.hpp"
#include "rsp/store/postgresql.hpp"

namespace rsp::service {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxFileSize = 256;  ///< far more than 64 hex digits and a line end

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

/// The key file's bytes, once it is known to be a private regular file.
expected<Bytes, std::string> read_private(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unexpected("cannot open the key-encryption key file " + file.string() + ": " + std::strerror(errno));
  struct stat st {};
  std::string refused;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    refused = "the key-encryption key file " + file.string() + " is not a regular file";
  } else if ((st.st_mode & 077) != 0) {
    refused = "the key-encryption key file " + file.string() + " is mode " + mode_text(st.st_mode) +
              ": it must not be accessible by group or others (chmod 600 " + file.string() + ")";
  }
  Bytes data;
  if (refused.empty()) {
    data.resize(kMaxFileSize + 1);
    std::size_t got = 0;
    while (got < data.size()) {
      const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n < 0) refused = "cannot read the key-encryption key file " + file.string();
        break;
      }
      got += static_cast<std::size_t>(n);
    }
    // The size of a buffer that held a key: wipe before shrinking.
    for (std::size_t i = got; i < data.size(); ++i) data[i] = 0;
    data.resize(got);
  }
  ::close(fd);
  if (!refused.empty()) {
    wipe(data);
    return unexpected(refused);
  }
  return data;
}

}  // namespace

expected<KeyEncryptionKey, std::string> load_kek_file(const fs::path& file) {
  RSP_TRY(Bytes data, read_private(file));
  std::optional<Bytes> key;
  if (data.size() == KeyEncryptionKey::kSize) {
    key = data;
  } else if (data.size() <= kMaxFileSize) {
    std::size_t end = data.size();
    while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r' || data[end - 1] == ' ' || data[end - 1] == '\t'))
      --end;
    if (end == 2 * KeyEncryptionKey::kSize)
      key = from_hex(std::string_view(reinterpret_cast<const char*>(data.data()), end));
  }
  wipe(data);
  if (!key || key->size() != KeyEncryptionKey::kSize) {
    if (key) wipe(*key);
    return unexpected("the key-encryption key file " + file.string() +
                      " does not hold a key (32 random bytes, as 64 hex digits or raw)");
  }
  auto kek = KeyEncryptionKey::make(*key);
  wipe(*key);
  if (!kek) return unexpected(kek.error().message);
  return std::move(*kek);
}

expected<KeyEncryptionKey, std::string> create_kek_file(const fs::path& file, crypto::Random& rng) {
  Bytes key = rng.bytes(KeyEncryptionKey::kSize);
  std::string text = to_hex(key) + "\n";
  auto written = write_file_new(file, as_bytes(text), fs::perms(0600));
  std::fill(text.begin(), text.end(), '\0');
  if (!written) {
    wipe(key);
    return unexpected("cannot write the key-encryption key file: " + written.error().message);
  }
  auto kek = KeyEncryptionKey::make(key);
  wipe(key);
  if (!kek) return unexpected(kek.error().message);
  return std::move(*kek);
}

fs::path default_kek_file(const std::string& database) { return fs::path(database + ".kek"); }

expected<DatabaseKek, std::string> kek_for_database(const std::string& kek_file, const std::string& database,
                                                    crypto::Random& rng) {
  DatabaseKek out;
  if (!kek_file.empty()) {
    out.file = kek_file;
  } else if (store::is_postgresql_url(database)) {
    return unexpected(std::string(
        "a postgresql:// database needs a key-encryption key file for the secrets it stores (--kek-file, or "
        "kek_file in the configuration; `rsp smdpp keys init --out FILE` makes one)"));
  } else {
    out.file = default_kek_file(database);
    std::error_code ec;
    if (!fs::exists(out.file, ec)) {
      auto made = create_kek_file(out.file, rng);
      if (made) {
        out.kek = std::make_shared<const KeyEncryptionKey>(std::move(*made));
        out.created = true;
        return out;
      }
      // Another command may have made it meanwhile: then it is read below.
      if (!fs::exists(out.file, ec)) return unexpected(made.error());
    }
  }
  RSP_TRY(KeyEncryptionKey kek, load_kek_file(out.file));
  out.kek = std::make_shared<const KeyEncryptionKey>(std::move(kek));
  return out;
}

}  // namespace rsp::service
