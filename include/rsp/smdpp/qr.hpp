#pragma once
/// QR codes for activation codes: the module matrix (libqrencode, byte mode,
/// error correction level M), a PNG image and terminal text. Both renderings
/// keep the 4-module quiet zone ISO/IEC 18004 requires around the symbol.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/common/bytes.hpp"
#include "rsp/smdpp/error.hpp"

namespace rsp::smdpp {

struct QrMatrix {
  int size = 0;             ///< modules per side (without quiet zone)
  std::vector<bool> dark;   ///< row-major, size * size
  bool at(int x, int y) const { return dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) + static_cast<std::size_t>(x)]; }
};

inline constexpr int kQrQuietZone = 4;

SmdppResult<QrMatrix> qr_encode(std::string_view text);

/// 8-bit grayscale PNG: each module `module_px` pixels square, black on
/// white, with the quiet zone.
SmdppResult<Bytes> qr_png(const QrMatrix& qr, int module_px = 8);
SmdppResult<void> write_qr_png(const QrMatrix& qr, const std::filesystem::path& file, int module_px = 8);

/// Two module rows per text line with the UTF-8 half blocks ▀ ▄ █. With
/// `ansi_colors` the lines set black on white explicitly (dark on light
/// whatever the terminal theme); without, the light modules are drawn so the
/// code reads right on the usual light-on-dark terminal.
std::string qr_terminal(const QrMatrix& qr, bool ansi_colors);

}  // namespace rsp::smdpp
