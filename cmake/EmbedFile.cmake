# Embeds a text file (the default config, the price table) into the engine as a C++ string, so the engine
# needs no Qt resource system and no files beside the binary.
function(fusebox_embed_file input symbol output)
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${symbol}.embed.cmake")
  file(WRITE "${script}" "
file(READ \"\${IN}\" content)
file(WRITE \"\${OUT}\" \"#pragma once\\n#include <string_view>\\nnamespace fusebox::embedded {\\ninline constexpr std::string_view ${symbol} = R\\\"fusebox_embed(\${content})fusebox_embed\\\";\\n}\\n\")
")
  add_custom_command(OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} -DIN=${input} -DOUT=${output} -P "${script}"
    DEPENDS "${input}" "${script}"
    COMMENT "Embedding ${input}")
endfunction()
