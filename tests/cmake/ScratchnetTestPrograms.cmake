# A test program's tests, as CTest lists them: its own tests once it is built, and
# before that one placeholder test that names it and says how to build it (and
# fails if run). `ctest -N` thus lists what is there, before a build as after.
#
#   scratchnet_doctest_tests(<target> [TEST_PREFIX <prefix>])
#   scratchnet_program_tests(<target> <ctest commands>)
#
# A doctest program is asked for its test cases when CTest starts (one CTest test
# per TEST_CASE, named as the test case), the list kept beside the program and
# asked for again when the program is newer: no configure and no build step
# between a new TEST_CASE and CTest. <ctest commands> are add_test(<name>
# <command>...) and set_tests_properties(...) lines in CTest's own syntax, for a
# program whose tests are not doctest's; they may use generator expressions such
# as $<TARGET_FILE:<target>>.
#
# A multi-configuration generator gets one file per configuration; CTest reads the
# one of its -C option.

set(scratchnet_list_doctest_script ${CMAKE_CURRENT_LIST_DIR}/list_doctest_cases.cmake)

# How a user builds the test programs of this build tree.
if(CMAKE_BINARY_DIR STREQUAL "${PROJECT_SOURCE_DIR}/build/release")
  set(scratchnet_build_tests_command "cmake --build --preset test")
else()
  file(RELATIVE_PATH scratchnet_build_dir ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR})
  if(scratchnet_build_dir MATCHES "^\\.\\./")
    set(scratchnet_build_dir ${CMAKE_BINARY_DIR})
  endif()
  set(scratchnet_build_tests_command "cmake --build ${scratchnet_build_dir}")
endif()

get_property(scratchnet_multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)

# The CTest file of <target>, as its generator expression.
function(scratchnet_ctest_file target out)
  if(scratchnet_multi_config)
    set(${out} "${CMAKE_CURRENT_BINARY_DIR}/${target}_ctest-$<CONFIG>.cmake" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_CURRENT_BINARY_DIR}/${target}_ctest.cmake" PARENT_SCOPE)
  endif()
endfunction()

# Writes the CTest file of <target>: <present> when its program exists, else the
# placeholder.
function(scratchnet_tests_of target present)
  set(placeholder "${target}: not built; build first: ${scratchnet_build_tests_command}")
  scratchnet_ctest_file(${target} ctest_file)
  file(GENERATE OUTPUT "${ctest_file}" CONTENT "\
if(EXISTS [==[$<TARGET_FILE:${target}>]==])
${present}else()
  add_test([==[${placeholder}]==] [==[${CMAKE_COMMAND}]==] -E echo
    [==[${target} is not built: run ${scratchnet_build_tests_command}, then CTest lists its tests.]==])
  set_tests_properties([==[${placeholder}]==] PROPERTIES FAIL_REGULAR_EXPRESSION [==[is not built]==])
endif()
")
  if(scratchnet_multi_config)
    set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_ctest_include.cmake")
    set(no_config "${target}: no configuration; run ctest -C <configuration>")
    file(WRITE "${include_file}" "\
if(CTEST_CONFIGURATION_TYPE)
  include(\"${CMAKE_CURRENT_BINARY_DIR}/${target}_ctest-\${CTEST_CONFIGURATION_TYPE}.cmake\" OPTIONAL)
else()
  add_test([==[${no_config}]==] [==[${CMAKE_COMMAND}]==] -E false)
endif()
")
  else()
    set(include_file "${ctest_file}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()

function(scratchnet_doctest_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TEST_PREFIX" "")
  scratchnet_ctest_file(${target} ctest_file)
  # The list is made again when the program or this file (the prefix) changed.
  scratchnet_tests_of(${target} "\
  set(scratchnet_doctest_program [==[$<TARGET_FILE:${target}>]==])
  set(scratchnet_doctest_prefix [==[${arg_TEST_PREFIX}]==])
  set(scratchnet_doctest_directory [==[${CMAKE_CURRENT_BINARY_DIR}]==])
  set(scratchnet_doctest_list [==[${CMAKE_CURRENT_BINARY_DIR}/${target}_cases-$<CONFIG>.cmake]==])
  set(scratchnet_doctest_settings [==[${ctest_file}]==])
  include([==[${scratchnet_list_doctest_script}]==])
")
endfunction()

function(scratchnet_program_tests target commands)
  if(NOT commands MATCHES "\n$")
    string(APPEND commands "\n")
  endif()
  scratchnet_tests_of(${target} "${commands}")
endfunction()
