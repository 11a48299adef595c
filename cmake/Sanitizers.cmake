# FUSEBOX_SANITIZE: build every target with sanitizers, for scripts/sanitize (scripts/test runs the suite once
# more under address,undefined; scripts/test --tsan under thread). UndefinedBehaviorSanitizer does not recover,
# so undefined behaviour fails the test that met it instead of scrolling past in its output.
set(FUSEBOX_SANITIZE "" CACHE STRING "Sanitizers for the whole build: address,undefined or thread (empty: none)")
if(FUSEBOX_SANITIZE)
  add_compile_options(-fsanitize=${FUSEBOX_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${FUSEBOX_SANITIZE})
endif()
# clang 14 cannot compile C++20 coroutines under -fsanitize=function ("Cannot represent a difference across
# sections"); that one check (calls through a mismatched function pointer type) is left out there.
if(FUSEBOX_SANITIZE MATCHES "undefined" AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-fno-sanitize=function)
endif()
