# Layer rules (design.md §3): protocol/ is pure. It may link the standard library and
# Boost.JSON only, and may not include I/O, logging or clock headers. Anything else is a
# configure-time error, not a convention.

set(PB_PROTOCOL_ALLOWED_LINKS Boost::json Boost::headers)
set(PB_PROTOCOL_FORBIDDEN_INCLUDES
  "boost/asio" "boost/beast" "asio\\.hpp" "spdlog" "sqlite3" "zmq" "libserialport"
  "fstream" "iostream" "chrono" "thread" "systemd" "toml" "CLI/")

function(pb_check_layers)
  foreach(target pb_protocol)
    get_target_property(links ${target} LINK_LIBRARIES)
    if(links)
      foreach(lib IN LISTS links)
        if(NOT lib IN_LIST PB_PROTOCOL_ALLOWED_LINKS)
          message(FATAL_ERROR "layer rule: ${target} may link only ${PB_PROTOCOL_ALLOWED_LINKS}, "
                              "but links '${lib}' (see design.md §3)")
        endif()
      endforeach()
    endif()
  endforeach()
  file(GLOB_RECURSE sources "${PROJECT_SOURCE_DIR}/protocol/*.hpp" "${PROJECT_SOURCE_DIR}/protocol/*.cpp")
  foreach(src IN LISTS sources)
    file(STRINGS ${src} includes REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS includes)
      foreach(bad IN LISTS PB_PROTOCOL_FORBIDDEN_INCLUDES)
        if(line MATCHES "[<\"/]${bad}")
          message(FATAL_ERROR "layer rule: ${src} includes '${line}'; protocol/ does no I/O, "
                              "logging or clock access (design.md §3)")
        endif()
      endforeach()
    endforeach()
  endforeach()
  # Nothing below may depend upward: ledger and adapters never link daemon or simulator code.
  foreach(target pb_ledger pb_adapters)
    if(TARGET ${target})
      get_target_property(links ${target} LINK_LIBRARIES)
      foreach(lib IN LISTS links)
        if(lib MATCHES "^pb_(daemon|sim)")
          message(FATAL_ERROR "layer rule: ${target} may not depend on ${lib}")
        endif()
      endforeach()
    endif()
  endforeach()
endfunction()
