# The library's dependencies: Eigen 3.4 and zlib (plus the platform's threads).
# Each is looked for with find_package first; where it is missing, FetchContent
# brings it from upstream, so a machine with internet needs nothing preinstalled.
# A parent project that already provides the targets wins (the if(NOT TARGET) guards).
include(FetchContent)
include(GNUInstallDirs)

find_package(Threads REQUIRED)

if(NOT TARGET Eigen3::Eigen)
  FetchContent_Declare(Eigen3
    URL https://gitlab.com/libeigen/eigen/-/archive/3.4.0/eigen-3.4.0.tar.gz
    URL_HASH SHA256=8586084f71f9bde545ee7fa6d00288b264a2b7ac3607b974e54d13e7162c1c72
    FIND_PACKAGE_ARGS 3.4 NO_MODULE)
  set(EIGEN_BUILD_DOC OFF CACHE BOOL "" FORCE)
  set(EIGEN_BUILD_TESTING OFF CACHE BOOL "" FORCE)
  FetchContent_MakeAvailable(Eigen3)
endif()

if(NOT TARGET ZLIB::ZLIB)
  FetchContent_Declare(ZLIB
    URL https://github.com/madler/zlib/releases/download/v1.3.1/zlib-1.3.1.tar.gz
    URL_HASH SHA256=9a93b2b7dfdac77ceba5a558a580e74667dd6fede4585b91eefb60f03b72df23
    FIND_PACKAGE_ARGS)
  FetchContent_MakeAvailable(ZLIB)
  if(NOT TARGET ZLIB::ZLIB AND TARGET zlibstatic)
    target_include_directories(zlibstatic INTERFACE ${zlib_SOURCE_DIR} ${zlib_BINARY_DIR})
    add_library(ZLIB::ZLIB ALIAS zlibstatic)
  endif()
endif()
