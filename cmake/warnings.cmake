# Warnings for project code only (never for system headers).
function(pb_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
    -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual -Wimplicit-fallthrough)
  if(PB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
