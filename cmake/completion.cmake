# Write one shell's completion script by asking the built binary, so that the
# installed script is the one the binary prints. Run at build time:
#   cmake -DBINARY=... -DSHELL_NAME=bash|zsh|fish -DOUTPUT=... -P completion.cmake
execute_process(
  COMMAND "${BINARY}" completion "${SHELL_NAME}"
  OUTPUT_FILE "${OUTPUT}.tmp"
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE "${OUTPUT}.tmp")
  message(FATAL_ERROR "${BINARY} completion ${SHELL_NAME} failed: ${status}")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
