# The MNIST data directory and the `mnist-data` target that fills it on demand.
# Override with -DSCRATCHNET_MNIST_DIR=... or the environment variable of the same name.
if(DEFINED ENV{SCRATCHNET_MNIST_DIR} AND NOT "$ENV{SCRATCHNET_MNIST_DIR}" STREQUAL "")
  set(default_dir "$ENV{SCRATCHNET_MNIST_DIR}")
elseif(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
  set(default_dir "$ENV{XDG_CACHE_HOME}/scratchnet/mnist")
elseif(DEFINED ENV{HOME})
  set(default_dir "$ENV{HOME}/.cache/scratchnet/mnist")
else()
  set(default_dir "${CMAKE_BINARY_DIR}/data/mnist")
endif()
set(SCRATCHNET_MNIST_DIR "${default_dir}" CACHE PATH "Directory holding (or to receive) the four MNIST files")

add_custom_target(mnist-data
  COMMAND ${CMAKE_COMMAND} -DDIR=${SCRATCHNET_MNIST_DIR} -P ${PROJECT_SOURCE_DIR}/cmake/fetch_mnist.cmake
  COMMENT "Checking MNIST in ${SCRATCHNET_MNIST_DIR}"
  VERBATIM)
