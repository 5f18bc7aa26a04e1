# Dependencies of the Windows cross build, from Debian packages of the build machine only (no
# downloads): GoogleTest compiled for the target from Debian's googletest source package
# (/usr/src/googletest), and the header-only fmt and CLI11 from libfmt-dev and libcli11-dev. Their
# headers are reached through links in the build tree, never by adding /usr/include (which would
# put the build machine's C library headers in front of MinGW's).
set(OUROBOROS_HOST_HEADERS ${CMAKE_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${OUROBOROS_HOST_HEADERS})
foreach(dir fmt CLI)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "/usr/include/${dir} is missing: run scripts/deps.sh")
  endif()
  file(CREATE_LINK /usr/include/${dir} ${OUROBOROS_HOST_HEADERS}/${dir} SYMBOLIC)
endforeach()

if(NOT TARGET fmt::fmt)
  add_library(ouroboros_fmt_header_only INTERFACE)
  target_include_directories(ouroboros_fmt_header_only SYSTEM INTERFACE ${OUROBOROS_HOST_HEADERS})
  target_compile_definitions(ouroboros_fmt_header_only INTERFACE FMT_HEADER_ONLY=1)
  add_library(fmt::fmt ALIAS ouroboros_fmt_header_only)
  set(fmt_FOUND TRUE)
endif()
if(NOT TARGET CLI11::CLI11)
  add_library(ouroboros_cli11 INTERFACE)
  target_include_directories(ouroboros_cli11 SYSTEM INTERFACE ${OUROBOROS_HOST_HEADERS})
  add_library(CLI11::CLI11 ALIAS ouroboros_cli11)
  set(CLI11_FOUND TRUE)
endif()

# The parts' find_package(fmt) and find_package(CLI11) find these (the targets above).
foreach(package fmt CLI11)
  set(_dir ${CMAKE_BINARY_DIR}/host-packages/${package})
  file(WRITE ${_dir}/${package}Config.cmake "# header-only, defined by cmake/windows_deps.cmake\n")
  set(${package}_DIR ${_dir} CACHE PATH "" FORCE)
endforeach()

if(OUROBOROS_BUILD_TESTS AND NOT TARGET GTest::gtest)
  set(OUROBOROS_GOOGLETEST_SOURCE /usr/src/googletest CACHE PATH "Debian's googletest sources")
  if(NOT EXISTS ${OUROBOROS_GOOGLETEST_SOURCE}/CMakeLists.txt)
    message(FATAL_ERROR "${OUROBOROS_GOOGLETEST_SOURCE} is missing: install Debian's googletest")
  endif()
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  set(gtest_disable_pthreads OFF CACHE BOOL "" FORCE)
  add_subdirectory(${OUROBOROS_GOOGLETEST_SOURCE} ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
  # GoogleTest's own sources are not ours to keep warning-free.
  foreach(t gtest gtest_main)
    target_compile_options(${t} PRIVATE -w)
  endforeach()
endif()
