#include "lib/http/url.hpp"

#include <gtest/gtest.h>

namespace epilot::http {
namespace {

TEST(ParseUrl, SplitsAndValidates) {
  const auto u = parse_url("https://[::1]:8443/a/b?c=d#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/a/b?c=d");
  EXPECT_EQ(parse_url("http://localhost")->target, "/");
  EXPECT_EQ(parse_url("HTTPS://h?q=1")->target, "/?q=1");
  EXPECT_EQ(parse_url("HTTPS://h?q=1")->scheme, "https");
  EXPECT_EQ(parse_url("https://h")->port, 443);
  EXPECT_EQ(parse_url("http://h")->port, 80);
  EXPECT_EQ(parse_url("http://h#f")->target, "/");
  EXPECT_EQ(parse_url("http://[::1]/")->host, "::1");
  EXPECT_EQ(parse_url("http://[::1]/")->port, 80);
  for (const char* bad : {"h/path", "ftp://h/", "https://:80/", "https://h:0/", "https://h:99999/", "https://u:p@h/"}) {
    EXPECT_FALSE(parse_url(bad).ok()) << bad;
  }
}

TEST(ParseUrl, SaysWhatIsWrong) {
  const auto message = [](const std::string& url) {
    const auto parsed = parse_url(url);
    EXPECT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.ok() ? ErrorCode::io : parsed.error().code, ErrorCode::usage) << url;
    return parsed.ok() ? std::string() : parsed.error().message;
  };
  EXPECT_EQ(message(""), "the URL '' is empty or holds a space, a control byte or a byte outside ASCII");
  EXPECT_EQ(message("http://h/a b"),
            "the URL 'http://h/a b' is empty or holds a space, a control byte or a byte outside ASCII");
  EXPECT_EQ(message("h/path"), "'h/path' is not an absolute URL (http:// or https://)");
  EXPECT_EQ(message("ftp://h/"), "unsupported URL scheme 'ftp' in ftp://h/");
  EXPECT_EQ(message("https://u:p@h/"), "URLs with credentials are not supported");
  EXPECT_EQ(message("http://[::1/"), "malformed IPv6 address in http://[::1/");
  EXPECT_EQ(message("http://[::1]x/"), "malformed host in http://[::1]x/");
  EXPECT_EQ(message("http://h<x/"), "malformed host in http://h<x/");
  EXPECT_EQ(message("http://:80/"), "no host in http://:80/");
  EXPECT_EQ(message("http://h:/"), "the URL http://h:/ has a ':' but no port after it");
  EXPECT_EQ(message("http://[::1]:/"), "the URL http://[::1]:/ has a ':' but no port after it");
  EXPECT_EQ(message("http://h:8x/"), "invalid port '8x' in http://h:8x/");
  EXPECT_EQ(message("http://h:65536/"), "invalid port '65536' in http://h:65536/");
}

TEST(ShownUrl, LeavesOutQueryFragmentAndCredentials) {
  EXPECT_EQ(shown_url("https://h/p?token=secret#x"), "https://h/p");
  EXPECT_EQ(shown_url("https://user:pw@h:8443/p?x=1"), "https://h:8443/p");
  EXPECT_EQ(shown_url("http://h/a@b"), "http://h/a@b");
  EXPECT_EQ(shown_url("/path?q"), "/path");
}

TEST(IsLoopbackHost, TakesLiteralsOnly) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.3.2.1"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("::ffff:127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("LocalHost"));
  EXPECT_FALSE(is_loopback_host("127example.com"));
  EXPECT_FALSE(is_loopback_host("127.evil.test"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("::2"));
}

TEST(UrlHost, BracketsIpv6Only) {
  EXPECT_EQ(url_host("::1"), "[::1]");
  EXPECT_EQ(url_host("fe80::1%25eth0"), "[fe80::1%25eth0]");
  EXPECT_EQ(url_host("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(url_host("example.com"), "example.com");
  EXPECT_EQ(url_host_port("::1", 8080), "[::1]:8080");
  EXPECT_EQ(url_host_port("localhost", 80), "localhost:80");
}

TEST(HostHeader, NamesThePortUnlessItIsTheSchemesDefault) {
  EXPECT_EQ(host_header(*parse_url("https://h/")), "h");
  EXPECT_EQ(host_header(*parse_url("https://h:443/")), "h");
  EXPECT_EQ(host_header(*parse_url("https://h:80/")), "h:80");
  EXPECT_EQ(host_header(*parse_url("http://h:80/")), "h");
  EXPECT_EQ(host_header(*parse_url("http://h:443/")), "h:443");
  EXPECT_EQ(host_header(*parse_url("http://[::1]/")), "[::1]");
  EXPECT_EQ(host_header(*parse_url("http://[::1]:8080/")), "[::1]:8080");
}

}  // namespace
}  // namespace epilot::http
