# Turn the payload fixtures into a C++ source: a table of {name, bytes}, each
# byte for byte. Run at build time:
#   cmake -DOUTPUT=... -DINPUTS="a.json|b.json" -P embed.cmake
string(REPLACE "|" ";" INPUTS "${INPUTS}")
set(entries "")
set(arrays "")
set(index 0)
foreach(input IN LISTS INPUTS)
  file(READ "${input}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  get_filename_component(name "${input}" NAME)
  string(REGEX REPLACE "\\.json$" "" name "${name}")
  string(APPEND arrays "constexpr unsigned char k_data_${index}[] = {\n${bytes}0};\n")
  string(APPEND entries "    {\"${name}\", {reinterpret_cast<const char*>(k_data_${index}), ${size}}, {}},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from fixtures/payloads by cmake/embed.cmake; do not edit.\n"
"#include \"lib/epilot/templates.hpp\"\n"
"namespace epilot {\n"
"namespace {\n${arrays}"
"const Fixture k_fixtures[] = {\n${entries}};\n"
"}  // namespace\n"
"std::span<const Fixture> builtin_fixtures() { return k_fixtures; }\n"
"}  // namespace epilot\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
