# Warnings for the project's own tests and examples: a private target that is never
# exported, so users of the library do not inherit our flags.
add_library(scratchnet_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(scratchnet_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wdouble-promotion)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 at -O2/-O3 reports a 16-byte SSE store into Eigen's freshly allocated
    # storage as an overflow: a false positive inside Eigen, not in our code.
    target_compile_options(scratchnet_warnings INTERFACE -Wno-stringop-overflow)
  endif()
  if(SCRATCHNET_WARNINGS_AS_ERRORS)
    target_compile_options(scratchnet_warnings INTERFACE -Werror)
  endif()
elseif(MSVC)
  target_compile_options(scratchnet_warnings INTERFACE /W4 $<$<BOOL:${SCRATCHNET_WARNINGS_AS_ERRORS}>:/WX>)
endif()

# -march=native for the programs we measure and for the native test suite, which
# runs the code paths (AVX-512 GEMM kernel) those programs run.
add_library(scratchnet_native INTERFACE)
if(SCRATCHNET_NATIVE AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(scratchnet_native INTERFACE -march=native)
endif()

# Tests and quick examples: -O1 in Release. They run in seconds either way, and
# -O1 halves their compile time (the template-heavy test files most of all).
add_library(scratchnet_quick INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(scratchnet_quick INTERFACE $<$<CONFIG:Release>:-O1>)
endif()

# Optimisation for programs whose speed we measure (examples, benchmark): CMake's
# Release flags (-O3) and -march=native. (The GEMM kernels and the packet loops
# of kernels/packet_loop.hpp are vectorised at any level, but g++ 12 at -O2
# vectorises other loops, such as pooling's and Dropout's masks, only where no
# scalar remainder is left; the README's Performance section has the figures.)
add_library(scratchnet_fast INTERFACE)
target_link_libraries(scratchnet_fast INTERFACE scratchnet_native)
