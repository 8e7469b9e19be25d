# QR codes (qr.cpp): libqrencode for the matrix, libpng for the image.
find_package(PNG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
target_link_libraries(rsp_smdpp PRIVATE PkgConfig::QRENCODE PNG::PNG)
