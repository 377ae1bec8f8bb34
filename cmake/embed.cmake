# Turn a file into a C++ source defining `std::string_view <FUNCTION>()` that
# returns its exact bytes. Run at build time: cmake -DINPUT=... -DOUTPUT=... -DFUNCTION=... -P embed.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by cmake/embed.cmake; do not edit.\n"
"#include <string_view>\n"
"#include \"lib/payload.hpp\"\n"
"namespace epilot {\n"
"namespace { constexpr unsigned char k_data[] = {\n${bytes}0};\n}\n"
"std::string_view ${FUNCTION}() { return {reinterpret_cast<const char*>(k_data), ${size}}; }\n"
"}  // namespace epilot\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
