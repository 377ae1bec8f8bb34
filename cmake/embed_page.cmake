# Turn ui/inspector.html into a C++ source: the page, byte for byte, as a raw
# string literal. Run at build time:
#   cmake -DINPUT=inspector.html -DOUTPUT=inspector_page.cpp -P embed_page.cmake
file(READ "${INPUT}" page)
string(FIND "${page}" ")epilot_page\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} holds the literal's delimiter")
endif()
file(WRITE "${OUTPUT}.tmp"
"// Generated from ui/inspector.html by cmake/embed_page.cmake; do not edit.\n"
"#include \"cli/listen_inspector.hpp\"\n"
"namespace epilot::cli {\n"
"std::string_view inspector_page() {\n"
"  static constexpr char k_page[] = R\"epilot_page(${page})epilot_page\";\n"
"  return {k_page, sizeof k_page - 1};\n"
"}\n"
"}  // namespace epilot::cli\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
