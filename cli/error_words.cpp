#include "cli/error_words.hpp"

#include <string>

#include "cli/environment.hpp"

namespace epilot::cli {

namespace {

// What the message says instead of the library's, for errors whose whole
// sentence is about a flag; empty for the others.
std::string message_for(const Error& error) {
  switch (error.about) {
    case Subject::missing_org_id:
      return "the webhooks endpoint serves a key per organisation: give --org-id";
    case Subject::malformed_org_id:
      return "--org-id '" + error.detail + "' is not an organisation id";
    case Subject::unwanted_org_id:
      return "--org-id is only for --endpoint webhooks (the app keys are global)";
    default:
      return {};
  }
}

// The flag that stands where the library's message names its input.
std::string_view flag_for(Subject about) { return about == Subject::field_overrides ? "--set" : ""; }

// The hint that names what to use instead; empty when there is none.
std::string hint_for(const Error& error) {
  switch (error.about) {
    case Subject::existing_file:
      return "use --force to replace it";
    case Subject::ca_certificates:
      return "--ca-cert takes a PEM file of one or more certificates";
    case Subject::secret_as_private_key:
      return std::string("HMAC secrets go to --secret, --secret-file or ") + k_env_secret;
    case Subject::key_as_secret:
      return "Ed25519 keys go to --private-key (sign) or --public-key (verify)";
    case Subject::pem_as_secret:
      return "PEM keys go to --private-key (sign) or --public-key (verify)";
    case Subject::short_secret:
      return "generate one with: epilot-action keygen --hmac";
    case Subject::not_a_capture:
      return "a capture is a request as received, headers and body (what 'epilot-action sign' or 'listen' writes)";
    case Subject::missing_option:
      return "give it with --option " + error.detail + "=VALUE";
    default:
      return {};
  }
}

}  // namespace

Error in_cli_words(Error error) {
  if (auto message = message_for(error); !message.empty()) {
    error.message = std::move(message);
  }
  const auto name = subject_name(error.about);
  const auto flag = flag_for(error.about);
  if (!flag.empty() && error.named_at != std::string::npos &&
      error.message.compare(error.named_at, name.size(), name) == 0) {
    error.message.replace(error.named_at, name.size(), flag);
  }
  // The library's own hints, if any, come after: it gave this one first.
  if (auto hint = hint_for(error); !hint.empty()) {
    error.hints.insert(error.hints.begin(), std::move(hint));
  }
  error.about = Subject::none;  // said now; a second pass adds nothing
  return error;
}

}  // namespace epilot::cli
