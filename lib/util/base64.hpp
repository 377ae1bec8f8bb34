#pragma once

// Standard base64 (RFC 4648 section 4, `+/` alphabet, `=` padding), decoded
// strictly: a lenient decoder is how `whsec_!!!!` becomes an empty, forgeable key.

#include <optional>
#include <string>
#include <string_view>

#include "lib/util/bytes.hpp"

namespace epilot::util {

std::string base64_encode(const Bytes& bytes);
std::string base64_encode(std::string_view bytes);

// Decode `text`, or nullopt unless it is canonical base64: length a multiple
// of four, only alphabet characters, padding only at the end, and unused
// trailing bits zero (so every byte string has exactly one accepted encoding).
std::optional<Bytes> base64_decode(std::string_view text);

// Decode unpadded base64url (RFC 4648 section 5), as JWTs use it; nullopt
// unless canonical.
std::optional<Bytes> base64url_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);

// Why `text` is not canonical base64, for error messages ("" if it is).
std::string base64_problem(std::string_view text);

}  // namespace epilot::util
