# Fails when BINARY loads a shared library whose file name matches FORBIDDEN (a regular
# expression), or when CONTROL, a binary known to load one, does not: the control keeps the check
# from passing unseen if ldd's output or the library's name changes. Run by ctest
# (ledgerctl_loads_no_rocksdb).
#
# Why the built binary, as the loader sees it: the question is what a machine running ledgerctl
# must have installed, and the binary answers it after the linker has resolved every way a
# library can arrive (a target's transitive links, a generator expression, a flag). A walk of the
# targets' link libraries at configure time reads what the build means to link and misses what it
# does not follow. ldd rather than readelf -d: ldd lists what the loader maps, the dependencies of
# the shared libraries ledgerctl needs included, where readelf shows the binary's own entries. Our
# layers' archives (ledger_eventstore and every library above it) leave no trace of their own in
# a binary, but each links RocksDB as a shared library, so linking one shows here.
function(loaded_libraries binary out)
  execute_process(COMMAND ldd ${binary} RESULT_VARIABLE status OUTPUT_VARIABLE listing ERROR_VARIABLE errors)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "ldd ${binary} failed (${status}): ${errors}")
  endif()
  set(${out} "${listing}" PARENT_SCOPE)
endfunction()

foreach(variable BINARY CONTROL FORBIDDEN)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "-D${variable}=... is required")
  endif()
endforeach()

loaded_libraries(${CONTROL} control)
if(NOT control MATCHES "${FORBIDDEN}")
  message(FATAL_ERROR "${CONTROL} should load a library matching '${FORBIDDEN}', and ldd lists none:\n${control}")
endif()

loaded_libraries(${BINARY} listing)
string(REGEX MATCHALL "[^\n]*${FORBIDDEN}[^\n]*" found "${listing}")
if(found)
  list(JOIN found "\n" lines)
  message(FATAL_ERROR "${BINARY} loads what it should not:\n${lines}")
endif()
message(STATUS "${BINARY} loads no library matching '${FORBIDDEN}'")
