#pragma once
// The card state's two slots, DIR/state.0 and DIR/state.1, each overwritten
// in place: a write goes to the slot that does not hold the newest record, so
// a kill or power cut in the middle of it leaves the newest record whole, and
// a read takes the newest record whose checksum holds. A write is one pwrite
// and one fdatasync of an existing file: no new inode, no rename and no
// directory sync, a fraction of the cost of replacing a file atomically.
//
// A slot: the header line "rsp-euicc-state 1 <seq> <length> <fnv-1a 64 hex>\n"
// then <length> bytes of record; what follows (the tail of an older, longer
// record) is ignored.

#include <cstdint>
#include <filesystem>

#include "rsp/common/bytes.hpp"
#include "rsp/euicc/store.hpp"

namespace rsp::euicc::detail {

/// What a slot's header says of its record.
struct SlotStamp {
  std::uint64_t seq = 0;  ///< 0: no record
  int slot = -1;          ///< 0 or 1, -1 with seq 0
  std::uint64_t sum = 0;  ///< checksum of the body
  bool operator==(const SlotStamp&) const = default;
};

struct SlotRecord {
  SlotStamp stamp;             ///< seq 0: neither slot holds a whole record
  bool any_slot_data = false;  ///< some slot has bytes (a record or a torn write)
  Bytes body;
};

/// The newest whole record of `dir`; bodies over `max_size` bytes count as
/// unreadable.
StoreResult<SlotRecord> read_newest_slot(const std::filesystem::path& dir, std::size_t max_size);

/// Whether `stamp`, read or written earlier, is still the newest whole
/// record: one header read (the other slot's), the bodies not checked.
bool is_newest_slot(const std::filesystem::path& dir, const SlotStamp& stamp);

/// Writes `body` as record `newest.seq + 1` into the other slot than
/// `newest.slot` (the newest whole record) and flushes it to disk.
StoreResult<SlotStamp> write_next_slot(const std::filesystem::path& dir, const SlotStamp& newest, ByteView body);

/// Creates the slot files of `dir` that do not exist yet, empty and 0600, and
/// flushes the folder once: a writer that makes its folder (the M2M card)
/// then never creates a slot in a save, whose first write would flush the
/// folder too. An empty slot holds no record.
StoreResult<void> create_slots(const std::filesystem::path& dir);

/// Both slot files of a folder held open by its one long-lived writer (the
/// simulated M2M card): a save then costs one header pread, one pwrite and one
/// fdatasync, no path lookups. The slots are only ever overwritten in place
/// (never renamed or replaced), so an open slot stays the folder's.
struct SlotFiles {
  int fd[2] = {-1, -1};
  SlotFiles() = default;
  SlotFiles(const SlotFiles&) = delete;
  SlotFiles& operator=(const SlotFiles&) = delete;
  ~SlotFiles();
  /// Opens both slots read-write; false (nothing held) when either is missing.
  bool open(const std::filesystem::path& dir);
  void close();
};

/// is_newest_slot through the held other slot; false when it is not open.
bool is_newest_slot(const SlotFiles& files, const SlotStamp& stamp);

/// write_next_slot through the held slot (the path's variant when not open).
StoreResult<SlotStamp> write_next_slot(SlotFiles& files, const std::filesystem::path& dir, const SlotStamp& newest,
                                       ByteView body);

}  // namespace rsp::euicc::detail
