# Compares the dynamic symbols libkring.so defines with the checked-in list.
# Usage: cmake -DNM=nm -DLIBRARY=libkring.so -DEXPECTED=kring.symbols -P check_symbols.cmake
execute_process(COMMAND ${NM} -D --defined-only ${LIBRARY}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} failed on ${LIBRARY}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(actual "")
foreach(line IN LISTS lines)
  # "<address> <type> <name>[@@VERSION]"; the version node itself is an absolute (A) symbol.
  if(line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) ([^@ ]+)")
    if(NOT CMAKE_MATCH_1 STREQUAL "A")
      list(APPEND actual "${CMAKE_MATCH_2}")
    endif()
  endif()
endforeach()
list(SORT actual)
file(STRINGS ${EXPECTED} expected REGEX "^[^#]")
list(SORT expected)
if(NOT actual STREQUAL expected)
  set(extra ${actual})
  list(REMOVE_ITEM extra ${expected})
  set(missing ${expected})
  list(REMOVE_ITEM missing ${actual})
  message(FATAL_ERROR "exported symbols differ from ${EXPECTED}\n"
    "  exported but not listed: ${extra}\n  listed but not exported: ${missing}\n"
    "If the change is intended (appending a function), update the list and KRING_ABI_VERSION.")
endif()
list(LENGTH actual n)
message(STATUS "libkring.so exports the ${n} listed symbols")
