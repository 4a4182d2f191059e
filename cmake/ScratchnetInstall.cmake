# install + export: find_package(scratchnet CONFIG) then links scratchnet::scratchnet;
# find_package(scratchnet CONFIG COMPONENTS mpi) also offers scratchnet::mpi.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/scratchnet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS scratchnet EXPORT scratchnetTargets)
if(SCRATCHNET_MPI)
  # Its own export set, so that a consumer without MPI can still load the package.
  install(TARGETS scratchnet_mpi EXPORT scratchnetMpiTargets)
  install(EXPORT scratchnetMpiTargets NAMESPACE scratchnet:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/scratchnet)
endif()
install(EXPORT scratchnetTargets NAMESPACE scratchnet:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/scratchnet)

configure_package_config_file(cmake/scratchnetConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/scratchnetConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/scratchnet)
# Header-only: the version file must not insist on the installing machine's pointer size.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/scratchnetConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/scratchnetConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/scratchnetConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/scratchnet)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/scratchnet)
