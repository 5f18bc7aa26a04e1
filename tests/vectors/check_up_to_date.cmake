# Regenerates the vectors into OUTPUT and fails if any file differs from the checked-in EXPECTED
# ones, or if a vector appeared or disappeared. Intended changes: regenerate into tests/vectors
# (ouroboros-vector-gen tests/vectors) and commit the diff.
file(REMOVE_RECURSE ${OUTPUT})
execute_process(COMMAND ${GENERATOR} ${OUTPUT} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "generator failed: ${result}")
endif()
file(GLOB generated RELATIVE ${OUTPUT} ${OUTPUT}/*.bin ${OUTPUT}/*.json)
file(GLOB checked_in RELATIVE ${EXPECTED} ${EXPECTED}/*.bin ${EXPECTED}/*.json)
list(SORT generated)
list(SORT checked_in)
if(NOT generated STREQUAL checked_in)
  message(FATAL_ERROR "vector files differ:\n generated: ${generated}\n checked in: ${checked_in}")
endif()
set(changed "")
foreach(name IN LISTS generated)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUTPUT}/${name} ${EXPECTED}/${name}
                  RESULT_VARIABLE differs)
  if(NOT differs EQUAL 0)
    list(APPEND changed ${name})
  endif()
endforeach()
if(changed)
  message(FATAL_ERROR "regenerated vectors differ from the checked-in ones: ${changed}\n"
                      "If the change is intended, run: ouroboros-vector-gen tests/vectors")
endif()
list(LENGTH generated count)
message(STATUS "all ${count} vector files are up to date")
