#pragma once
// The library's one version number: CMakeLists.txt reads it from here for the
// project and its package version file.

#define SCRATCHNET_VERSION_MAJOR 0
#define SCRATCHNET_VERSION_MINOR 1
#define SCRATCHNET_VERSION_PATCH 0
#define SCRATCHNET_VERSION_STRING "0.1.0"
