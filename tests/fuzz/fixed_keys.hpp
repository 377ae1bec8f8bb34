#pragma once

// The keys fuzz targets verify with: the TV-H1 secret and the TV-E1 public key.

#include "lib/webhook/signature.hpp"

namespace epilot::fuzz {

inline const webhook::VerifyKeys& fixed_keys() {
  static const webhook::VerifyKeys keys = [] {
    webhook::VerifyKeys k;
    k.secrets.push_back({"s", *webhook::parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")});
    k.public_keys.push_back({"p", *webhook::parse_public_key("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=")});
    return k;
  }();
  return keys;
}

}  // namespace epilot::fuzz
