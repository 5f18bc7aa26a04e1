# Installs the build tree into a temporary prefix, builds examples/ against it with
# find_package(ouroboros) as a separate project, and runs the example programs.
# Variables: BUILD_DIR, SOURCE_DIR, WORK_DIR, CXX_COMPILER, GENERATOR.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" -j 2)
string(RANDOM LENGTH 8 suffix)
run("${WORK_DIR}/build/ouroboros-example-app" "ouroboros-test-example-${suffix}")
if(EXISTS "${WORK_DIR}/build/ouroboros-example-spdlog")
  run("${WORK_DIR}/build/ouroboros-example-spdlog" "ouroboros-test-example-spdlog-${suffix}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
