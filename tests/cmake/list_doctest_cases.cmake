# Read by CTest (see ScratchnetTestPrograms.cmake): one CTest test per test case of
# the doctest program scratchnet_doctest_program, named scratchnet_doctest_prefix
# and the test case's name, run in scratchnet_doctest_directory. The list is kept
# in scratchnet_doctest_list and made again when the program,
# scratchnet_doctest_settings or this file is newer.
#
# Each test fails if its filter selects no test case: doctest then reports
# success, and a name cut in two (as doctest_discover_tests cuts a name at a ';')
# would pass without running anything.

if(NOT EXISTS "${scratchnet_doctest_list}"
   OR "${scratchnet_doctest_program}" IS_NEWER_THAN "${scratchnet_doctest_list}"
   OR "${scratchnet_doctest_settings}" IS_NEWER_THAN "${scratchnet_doctest_list}"
   OR "${CMAKE_CURRENT_LIST_FILE}" IS_NEWER_THAN "${scratchnet_doctest_list}")
  execute_process(COMMAND "${scratchnet_doctest_program}" --list-test-cases --no-version
    WORKING_DIRECTORY "${scratchnet_doctest_directory}"
    OUTPUT_VARIABLE scratchnet_doctest_output ERROR_VARIABLE scratchnet_doctest_errors
    RESULT_VARIABLE scratchnet_doctest_result)
  set(scratchnet_doctest_script "")
  if(scratchnet_doctest_result EQUAL 0)
    # Between the two rules, one name a line: doctest's other lines start with
    # "[doctest] ". A name with a ';' would be cut in two by CMake's lists.
    string(REPLACE ";" "\\;" scratchnet_doctest_output "${scratchnet_doctest_output}")
    string(REPLACE "\n" ";" scratchnet_doctest_lines "${scratchnet_doctest_output}")
    foreach(name IN LISTS scratchnet_doctest_lines)
      if(name STREQUAL "" OR name MATCHES "^(\\[doctest\\] |=+$)")
        continue()
      endif()
      # --test-case takes a comma-separated list of patterns: a ',' in a name is escaped.
      string(REPLACE "," "\\," pattern "${name}")
      string(APPEND scratchnet_doctest_script
        "add_test([==[${scratchnet_doctest_prefix}${name}]==] [==[${scratchnet_doctest_program}]==] "
        "[==[--test-case=${pattern}]==])\n"
        "set_tests_properties([==[${scratchnet_doctest_prefix}${name}]==] PROPERTIES "
        "WORKING_DIRECTORY [==[${scratchnet_doctest_directory}]==] "
        "FAIL_REGULAR_EXPRESSION [==[test cases: +0 \\|]==])\n")
    endforeach()
  else()
    # A program that cannot list its test cases: one test, which shows why.
    get_filename_component(program_name "${scratchnet_doctest_program}" NAME)
    string(APPEND scratchnet_doctest_script
      "add_test([==[${scratchnet_doctest_prefix}${program_name} lists its test cases]==] "
      "[==[${scratchnet_doctest_program}]==] --list-test-cases)\n")
  endif()
  # Written whole, then renamed: a second CTest started meanwhile reads either list.
  file(WRITE "${scratchnet_doctest_list}.new" "${scratchnet_doctest_script}")
  file(RENAME "${scratchnet_doctest_list}.new" "${scratchnet_doctest_list}")
endif()
include("${scratchnet_doctest_list}")
