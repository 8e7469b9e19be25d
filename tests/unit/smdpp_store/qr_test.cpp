// Activation code QR: the PNG decodes back to qrencode's module matrix with
// the quiet zone; the terminal text has the same pattern.
#include <gtest/gtest.h>
#include <png.h>

#include "rsp/common/file.hpp"
#include "rsp/messages/activation_code.hpp"
#include "rsp/smdpp/qr.hpp"
#include "test_support/temp_dir.hpp"

namespace rsp::smdpp {
namespace {

const std::string kCode = messages::format_activation_code({"smdp.test.example", "ABCDE-FGHJK-MNPQR-STVWX", {}, true});

struct Gray {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;
};

std::optional<Gray> decode_png(const Bytes& png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) return std::nullopt;
  image.format = PNG_FORMAT_GRAY;
  Gray g;
  g.width = static_cast<int>(image.width);
  g.height = static_cast<int>(image.height);
  g.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, g.pixels.data(), 0, nullptr)) return std::nullopt;
  return g;
}

TEST(Qr, ActivationCodeText) {
  EXPECT_EQ(kCode, "LPA:1$smdp.test.example$ABCDE-FGHJK-MNPQR-STVWX$$1");
  auto back = messages::parse_activation_code(kCode);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->confirmation_code_required);
}

TEST(Qr, PngMatchesTheMatrix) {
  auto qr = qr_encode(kCode);
  ASSERT_TRUE(qr) << qr.error().message;
  EXPECT_GE(qr->size, 21);
  EXPECT_EQ((qr->size - 17) % 4, 0);  // a QR version: 21, 25, ... modules
  // Finder pattern corners: dark.
  EXPECT_TRUE(qr->at(0, 0));
  EXPECT_TRUE(qr->at(qr->size - 1, 0));
  EXPECT_TRUE(qr->at(0, qr->size - 1));
  test_support::TempDir dir;
  const int px = 5;
  ASSERT_TRUE(write_qr_png(*qr, dir.path() / "ac.png", px));
  auto file = read_file(dir.path() / "ac.png");
  ASSERT_TRUE(file);
  const Bytes sig{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  ASSERT_GE(file->size(), 8u);
  EXPECT_TRUE(std::equal(sig.begin(), sig.end(), file->begin()));
  auto img = decode_png(*file);
  ASSERT_TRUE(img);
  const int side = (qr->size + 2 * kQrQuietZone) * px;
  ASSERT_EQ(img->width, side);
  ASSERT_EQ(img->height, side);
  int mismatches = 0;
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      const int mx = x / px - kQrQuietZone, my = y / px - kQrQuietZone;
      const bool dark = mx >= 0 && my >= 0 && mx < qr->size && my < qr->size && qr->at(mx, my);
      const std::uint8_t v = img->pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(side) + static_cast<std::size_t>(x)];
      if (v != (dark ? 0x00 : 0xFF)) ++mismatches;
    }
  EXPECT_EQ(mismatches, 0);
}

TEST(Qr, TerminalHalfBlocks) {
  auto qr = qr_encode(kCode);
  ASSERT_TRUE(qr);
  const int n = qr->size + 2 * kQrQuietZone;
  for (bool ansi : {false, true}) {
    const std::string text = qr_terminal(*qr, ansi);
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t p; (p = text.find('\n', start)) != std::string::npos; start = p + 1)
      lines.push_back(text.substr(start, p - start));
    ASSERT_EQ(static_cast<int>(lines.size()), (n + 1) / 2);
    // Decode the glyphs back to modules.
    for (int row = 0; row < static_cast<int>(lines.size()); ++row) {
      std::string line = lines[static_cast<std::size_t>(row)];
      if (ansi) {
        ASSERT_EQ(line.rfind("\x1b[30;107m", 0), 0u);
        line = line.substr(9, line.size() - 9 - 4);
      }
      int x = 0;
      for (std::size_t i = 0; i < line.size(); ++x) {
        bool top = false, bottom = false;
        if (line[i] == ' ') {
          i += 1;
        } else {
          const std::string g = line.substr(i, 3);
          top = g == "\u2588" || g == "\u2580";
          bottom = g == "\u2588" || g == "\u2584";
          i += 3;
        }
        if (!ansi) {
          top = !top;
          bottom = !bottom;
        }
        auto dark = [&](int mx, int my) {
          mx -= kQrQuietZone;
          my -= kQrQuietZone;
          return mx >= 0 && my >= 0 && mx < qr->size && my < qr->size && qr->at(mx, my);
        };
        EXPECT_EQ(top, dark(x, 2 * row));
        if (2 * row + 1 < n) {
          EXPECT_EQ(bottom, dark(x, 2 * row + 1));
        }
      }
      EXPECT_EQ(x, n);
    }
  }
}

TEST(Qr, RefusesEmptyText) { EXPECT_FALSE(qr_encode("")); }

}  // namespace
}  // namespace rsp::smdpp
