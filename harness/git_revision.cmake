# Writes OUT (a C file defining harness_git_revision) from `git describe`, only when it
# changes, so every build records the revision it was built from (with "-dirty" for local edits).
execute_process(COMMAND git describe --always --dirty --abbrev=12
  WORKING_DIRECTORY "${SRC}" OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT rev)
  set(rev "unknown")
endif()
set(text "/* Generated at build time; do not edit. */\nextern const char harness_git_revision[];\nconst char harness_git_revision[] = \"${rev}\";\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
