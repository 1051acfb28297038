# paybridged: pb_daemon holds everything but main(), so tests link the real daemon code.
# Heavy headers (Asio, ZeroMQ, toml++) stay inside .cpp files; CLI11 only in main.cpp.
file(GLOB PB_DAEMON_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
list(REMOVE_ITEM PB_DAEMON_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
add_library(pb_daemon STATIC ${PB_DAEMON_SOURCES})
target_include_directories(pb_daemon PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(pb_daemon PUBLIC pb_protocol Boost::headers cppzmq spdlog::spdlog
  tomlplusplus::tomlplusplus PkgConfig::SYSTEMD Threads::Threads)
foreach(lib pb_adapters pb_ledger)
  if(TARGET ${lib})
    target_link_libraries(pb_daemon PUBLIC ${lib})
  endif()
endforeach()
pb_warnings(pb_daemon)
# E-receipts: PDF with libharu (libhpdf-dev; no pkg-config file) and QR codes with libqrencode.
find_path(HPDF_INCLUDE_DIR hpdf.h REQUIRED)
find_library(HPDF_LIBRARY NAMES hpdf REQUIRED)
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
target_include_directories(pb_daemon PRIVATE ${HPDF_INCLUDE_DIR})
target_link_libraries(pb_daemon PRIVATE ${HPDF_LIBRARY} PkgConfig::QRENCODE)

add_executable(paybridged ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
target_link_libraries(paybridged PRIVATE pb_daemon CLI11::CLI11)
pb_warnings(paybridged)
install(TARGETS paybridged RUNTIME DESTINATION bin)
