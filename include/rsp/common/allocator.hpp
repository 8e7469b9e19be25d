#pragma once
/// Process-wide allocator settings for long-running servers.

namespace rsp {

/// Keeps up to 64 MB of freed heap per arena for reuse instead of handing it
/// back to the kernel at nearly every large free(). With several threads each
/// return is an madvise plus a TLB flush on every core, which cost a tenth of
/// the SM-DP+'s CPU per download. Call once, early in main(). Returns whether
/// the setting applied: false where the C library has no such setting.
bool tune_allocator_for_server();

}  // namespace rsp
