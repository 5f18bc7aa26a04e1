# Every program's --version, the Python package and the Go module state the one project version
# of the top-level CMakeLists.txt (project(... VERSION)).
# Variables: VERSION (the CMake project version), SOURCE_DIR, PROGRAMS (;-list of executables).
set(failures "")
foreach(program IN LISTS PROGRAMS)
  execute_process(COMMAND ${EMULATOR} "${program}" --version RESULT_VARIABLE result OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  get_filename_component(name "${program}" NAME_WE)  # without .exe on Windows
  string(FIND "${out}" "\n" end)
  string(SUBSTRING "${out}" 0 ${end} first_line)
  if(NOT result EQUAL 0)
    string(APPEND failures "${name} --version exited ${result}: ${err}\n")
  elseif(NOT first_line STREQUAL "${name} ${VERSION}")
    string(APPEND failures "${name} --version said '${first_line}', expected '${name} ${VERSION}'\n")
  endif()
endforeach()

file(STRINGS "${SOURCE_DIR}/python/src/ouroboros_reader/__init__.py" python_line
     REGEX "^__version__ = ")
if(NOT python_line STREQUAL "__version__ = \"${VERSION}\"")
  string(APPEND failures "python/src/ouroboros_reader/__init__.py: '${python_line}', expected ${VERSION}\n")
endif()
file(STRINGS "${SOURCE_DIR}/go/doc.go" go_line REGEX "^const Version = ")
if(NOT go_line STREQUAL "const Version = \"${VERSION}\"")
  string(APPEND failures "go/doc.go: '${go_line}', expected ${VERSION}\n")
endif()

if(failures)
  message(FATAL_ERROR "versions disagree with CMake's ${VERSION}:\n${failures}")
endif()
list(LENGTH PROGRAMS count)
message(STATUS "${count} programs, the Python package and the Go module all say ${VERSION}")
