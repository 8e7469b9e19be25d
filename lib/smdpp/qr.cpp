#include "rsp/smdpp/qr.hpp"

#include <png.h>
#include <qrencode.h>

#include <memory>

#include "rsp/common/file.hpp"
#include "rsp/smdpp/es2_codes.hpp"

namespace rsp::smdpp {

SmdppResult<QrMatrix> qr_encode(std::string_view text) {
  if (text.empty() || text.size() > 2000) return smdpp_error(es2codes::kInvalidParameter, "QR text length");
  const std::string s(text);
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(
      QRcode_encodeData(static_cast<int>(s.size()), reinterpret_cast<const unsigned char*>(s.data()), 0, QR_ECLEVEL_M),
      QRcode_free);
  if (!code) return smdpp_error(es2codes::kExecutionError, "QR encoding failed");
  QrMatrix m;
  m.size = code->width;
  m.dark.resize(static_cast<std::size_t>(m.size) * static_cast<std::size_t>(m.size));
  for (std::size_t i = 0; i < m.dark.size(); ++i) m.dark[i] = (code->data[i] & 1) != 0;  // bit 0: dark module
  return m;
}

SmdppResult<Bytes> qr_png(const QrMatrix& qr, int module_px) {
  if (qr.size <= 0 || module_px < 1 || module_px > 64) return smdpp_error(es2codes::kInvalidParameter, "QR image size");
  const int side = (qr.size + 2 * kQrQuietZone) * module_px;
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(side) * static_cast<std::size_t>(side), 0xFF);
  for (int y = 0; y < qr.size; ++y)
    for (int x = 0; x < qr.size; ++x) {
      if (!qr.at(x, y)) continue;
      for (int dy = 0; dy < module_px; ++dy) {
        const std::size_t row = static_cast<std::size_t>((y + kQrQuietZone) * module_px + dy) * static_cast<std::size_t>(side);
        for (int dx = 0; dx < module_px; ++dx)
          pixels[row + static_cast<std::size_t>((x + kQrQuietZone) * module_px + dx)] = 0x00;
      }
    }
  // libpng's simplified API: no setjmp, errors come back as return values.
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr))
    return smdpp_error(es2codes::kExecutionError, std::string("PNG: ") + image.message);
  Bytes out(size);
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr))
    return smdpp_error(es2codes::kExecutionError, std::string("PNG: ") + image.message);
  out.resize(size);
  png_image_free(&image);
  return out;
}

SmdppResult<void> write_qr_png(const QrMatrix& qr, const std::filesystem::path& file, int module_px) {
  RSP_TRY(Bytes png, qr_png(qr, module_px));
  if (auto w = write_file_atomic(file, png); !w) return smdpp_error(es2codes::kExecutionError, w.error().message);
  return {};
}

std::string qr_terminal(const QrMatrix& qr, bool ansi_colors) {
  const int n = qr.size + 2 * kQrQuietZone;
  auto dark = [&](int x, int y) {
    x -= kQrQuietZone;
    y -= kQrQuietZone;
    return x >= 0 && y >= 0 && x < qr.size && y < qr.size && qr.at(x, y);
  };
  std::string out;
  for (int y = 0; y < n; y += 2) {
    if (ansi_colors) out += "\x1b[30;107m";
    for (int x = 0; x < n; ++x) {
      bool top = dark(x, y);
      bool bottom = y + 1 < n ? dark(x, y + 1) : false;
      if (!ansi_colors) {
        // The glyph paints the light modules (terminal foreground is light).
        top = !top;
        bottom = y + 1 < n ? !bottom : false;
      }
      out += top ? (bottom ? "\u2588" : "\u2580") : (bottom ? "\u2584" : " ");
    }
    if (ansi_colors) out += "\x1b[0m";
    out += '\n';
  }
  return out;
}

}  // namespace rsp::smdpp
