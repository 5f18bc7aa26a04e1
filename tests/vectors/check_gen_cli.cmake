# The generator's command line: --help prints the usage and exits 0; any other argument that
# starts with '-' is a usage error (exit 2), never the name of a folder to write vectors into
# (`ouroboros-vector-gen --help` once wrote every vector into ./--help/). Runs in an empty
# scratch folder SCRATCH, which must stay empty.
file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH})

function(run_generator expected_code expected_text)
  execute_process(COMMAND ${GENERATOR} ${ARGN} WORKING_DIRECTORY ${SCRATCH}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code STREQUAL expected_code)
    message(FATAL_ERROR "ouroboros-vector-gen ${ARGN}: exit ${code}, expected ${expected_code}\n"
                        "stdout: ${out}\nstderr: ${err}")
  endif()
  string(FIND "${out}${err}" "${expected_text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "ouroboros-vector-gen ${ARGN}: no '${expected_text}' in\n${out}${err}")
  endif()
  file(GLOB left RELATIVE ${SCRATCH} ${SCRATCH}/* ${SCRATCH}/.*)
  if(left)
    message(FATAL_ERROR "ouroboros-vector-gen ${ARGN} wrote into the working folder: ${left}")
  endif()
endfunction()

run_generator(0 "usage: ouroboros-vector-gen" --help)
run_generator(0 "usage: ouroboros-vector-gen" -h)
run_generator(2 "unknown option '--bogus'" --bogus)
run_generator(2 "unknown option '-o'" -o out)
run_generator(2 "usage: ouroboros-vector-gen")
run_generator(2 "usage: ouroboros-vector-gen" one two)
file(REMOVE_RECURSE ${SCRATCH})
message(STATUS "ouroboros-vector-gen: --help, unknown options and wrong counts handled")
