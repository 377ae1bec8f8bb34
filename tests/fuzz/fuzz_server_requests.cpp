// listen's request reader (lib/http/request_reader over lib/http/wire): never crashes,
// and reads the same requests, and the same refusal, however the bytes
// arrive: all at once, one byte at a time, or split where the first input
// byte says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "lib/http/request_reader.hpp"

namespace {

struct Outcome {
  std::vector<std::string> requests;  // each flattened: method, target, headers, body
  int refusal = 0;
};

std::string flatten(const epilot::http::wire::Request& r) {
  std::string out = r.method + ' ' + r.target + ' ' + std::to_string(static_cast<int>(r.version)) + '\n';
  for (const auto& h : r.headers) {
    out += h.name + ':' + h.value + '\n';
  }
  return out + '\n' + r.body;
}

// Feed `pieces` in order, as reads from a socket.
Outcome read_all(const std::vector<std::string_view>& pieces) {
  epilot::http::RequestReader reader({4096, 65536});
  Outcome out;
  std::string in;
  for (const auto piece : pieces) {
    in.append(piece);
    while (true) {
      const auto step = reader.next(in);
      if (step == epilot::http::RequestReader::Step::refuse) {
        out.refusal = reader.refusal().status;
        return out;
      }
      if (step == epilot::http::RequestReader::Step::need_more) {
        break;
      }
      out.requests.push_back(flatten(reader.take_request()));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto whole = read_all({text});
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bytes.push_back(text.substr(i, 1));
  }
  const auto split_at = data[0] % (text.size() + 1);
  for (const auto& other : {read_all(bytes), read_all({text.substr(0, split_at), text.substr(split_at)})}) {
    if (other.requests != whole.requests || other.refusal != whole.refusal) {
      std::abort();
    }
  }
  return 0;
}
