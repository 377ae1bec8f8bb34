#include "cli/unreachable.hpp"

#include <vector>

#include "cli/output.hpp"

namespace epilot::cli {

void fail_unreachable(const std::string& url, const http::Delivered& delivered) {
  // The hint fits the failure: a server without TLS is not a certificate problem.
  std::vector<std::string> hints;
  if (delivered.untrusted) {
    hints.push_back("for a certificate of your own CA (mkcert, a dev server's), name it with --ca-cert FILE");
  } else if (delivered.not_tls) {
    hints.push_back("the server there speaks plain HTTP: use an http:// URL");
  } else if (delivered.error.find("TLS") == std::string::npos) {
    hints.push_back("is the endpoint running and listening on that port?");
  }
  fail(ErrorCode::network, "can't reach " + url + ": " + delivered.error, std::move(hints));
}

}  // namespace epilot::cli
