#pragma once

// A capture as a raw HTTP/1.1 request, as captured off the wire: CRLF or LF
// line ends, the body framed by Content-Length or the chunked transfer
// coding (or, with neither, the rest of the file).

#include <string>
#include <string_view>

#include "lib/util/error.hpp"
#include "lib/webhook/capture.hpp"

namespace epilot::webhook {

// The request in `data`, which must hold exactly one request and nothing
// after it; an error (bad_input) says what is wrong.
Result<Capture> parse_raw_http(std::string_view data);

// An HTTP/1.1 request as it would go on the wire (CRLF, Content-Length set).
std::string write_raw_http(const Capture& capture);

}  // namespace epilot::webhook
