#include "lib/epilot/replay_verdicts.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include <nlohmann/json.hpp>

#include "lib/util/bytes.hpp"
#include "lib/util/json.hpp"

namespace epilot {

std::string_view to_code(AnswerClass answer_class) {
  switch (answer_class) {
    case AnswerClass::success:
      return "success";
    case AnswerClass::skipped:
      return "skipped";
    case AnswerClass::failed:
      return "failed";
    case AnswerClass::other:
      return "other";
    case AnswerClass::timeout:
      return "timeout";
    case AnswerClass::unreachable:
      return "unreachable";
    case AnswerClass::broken:
      return "broken";
  }
  return "other";
}

std::optional<AnswerClass> parse_answer_class(std::string_view name) {
  for (std::size_t i = 0; i < k_answer_class_count; ++i) {
    const auto c = static_cast<AnswerClass>(i);
    if (to_code(c) == name) {
      return c;
    }
  }
  return std::nullopt;
}

namespace {

// The start of a text for a one-line message: control characters as
// spaces, cut at `max` bytes without splitting a UTF-8 sequence.
std::string excerpt(std::string_view text, std::size_t max = 120) {
  auto end = std::min(max, text.size());
  while (end < text.size() && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    end -= 1;  // back to the start of the character that does not fit
  }
  std::string out;
  for (const char c : text.substr(0, end)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  if (end < text.size()) {
    out += "...";
  }
  return out;
}

// An endpoint's reason, as much of it as a report line can hold.
std::string string_field(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    return {};
  }
  return excerpt(it->is_string() ? it->get<std::string>() : it->dump(), 1000);
}

}  // namespace

Classified classify(const http::Delivered& delivered) {
  switch (delivered.delivery) {
    case http::Delivery::timeout:
      return {AnswerClass::timeout, delivered.error};
    case http::Delivery::unreachable:
      return {AnswerClass::unreachable, delivered.error};
    case http::Delivery::broken:
      return {AnswerClass::broken, delivered.error};
    case http::Delivery::answered:
      break;
  }
  const auto& answer = delivered.answer;
  const int status = answer.status;
  // Only a JSON object body can carry the shapes; most answers have none, and
  // parsing is skipped for them.
  nlohmann::json body;
  const auto first = answer.body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && answer.body[first] == '{') {
    body = util::parse_json_or_discarded<nlohmann::json>(answer.body);
  }
  const bool object = body.is_object();
  if (status >= 200 && status < 300) {
    if (object && body.contains("skip_reason") && !body["skip_reason"].is_null()) {
      return {AnswerClass::skipped, string_field(body, "skip_reason")};
    }
    return {AnswerClass::success, {}};
  }
  if (status >= 400 && object) {
    const auto it = body.find("error_output");
    if (it != body.end() && it->is_object() && it->contains("error_reason")) {
      auto reason = string_field(*it, "error_reason");
      const auto code = string_field(*it, "error_code");
      if (!code.empty()) {
        reason = code + ": " + reason;
      }
      return {AnswerClass::failed, reason};
    }
  }
  auto reason = "HTTP " + std::to_string(status);
  if (!answer.reason.empty()) {
    reason += " " + answer.reason;
  }
  if (!answer.body.empty()) {
    reason += ": " + excerpt(answer.body);
  }
  return {AnswerClass::other, reason};
}

bool expectation_met(const Expectation& expectation, const http::Delivered& delivered, AnswerClass answer_class) {
  const bool answered = delivered.delivery == http::Delivery::answered;
  const int status = answered ? delivered.answer.status : 0;
  return std::any_of(expectation.any_of.begin(), expectation.any_of.end(), [&](const Expectation::Matcher& m) {
    if (m.answer_class) {
      return *m.answer_class == answer_class;
    }
    if (m.status != 0) {
      return answered && status == m.status;
    }
    return answered && status / 100 == m.status_class;
  });
}

Expectation default_expectation() {
  Expectation expectation;
  expectation.text = "2xx";
  Expectation::Matcher matcher;
  matcher.status_class = 2;
  expectation.any_of.push_back(matcher);
  return expectation;
}

std::size_t LatencyHistogram::bucket_of(std::uint64_t micros) {
  micros = std::min<std::uint64_t>(micros, 0xffffffffu);
  if (micros < (1u << k_sub_bits)) {
    return static_cast<std::size_t>(micros);
  }
  const int exponent = static_cast<int>(std::bit_width(micros)) - 1;  // >= k_sub_bits
  const auto sub = (micros >> (exponent - k_sub_bits)) & ((1u << k_sub_bits) - 1);
  return (static_cast<std::size_t>(exponent - k_sub_bits + 1) << k_sub_bits) + static_cast<std::size_t>(sub);
}

std::uint64_t LatencyHistogram::upper_bound_of(std::size_t bucket) {
  if (bucket < (1u << k_sub_bits)) {
    return bucket;
  }
  const int exponent = static_cast<int>(bucket >> k_sub_bits) - 1 + k_sub_bits;
  const auto sub = bucket & ((1u << k_sub_bits) - 1);
  const auto lower = ((1ull << k_sub_bits) + sub) << (exponent - k_sub_bits);
  return lower + (1ull << (exponent - k_sub_bits)) - 1;
}

void LatencyHistogram::add(std::chrono::nanoseconds latency) {
  const auto micros = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  m_counts[bucket_of(static_cast<std::uint64_t>(micros))] += 1;
  m_count += 1;
  m_max = std::max(m_max, latency);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    m_counts[i] += other.m_counts[i];
  }
  m_count += other.m_count;
  m_max = std::max(m_max, other.m_max);
}

std::chrono::nanoseconds LatencyHistogram::percentile(double quantile) const {
  if (m_count == 0) {
    return std::chrono::nanoseconds{0};
  }
  const auto rank =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(quantile * static_cast<double>(m_count))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    seen += m_counts[i];
    if (seen >= rank) {
      const std::chrono::nanoseconds bound =
          std::chrono::microseconds(upper_bound_of(i) + 1) - std::chrono::nanoseconds(1);
      return std::min(bound, m_max);
    }
  }
  return m_max;
}

namespace {

std::string xml_escape(std::string_view raw) {
  // An XML document is UTF-8 throughout: an endpoint's bytes may not be.
  const auto text = util::valid_utf8(raw);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 allows no control characters but tab, CR and LF.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", seconds);
  return buffer;
}

}  // namespace

std::string junit_xml(std::string_view suite, const std::vector<JunitCase>& cases, double seconds,
                      std::string_view timestamp_iso8601) {
  const auto failures =
      std::count_if(cases.begin(), cases.end(), [](const JunitCase& c) { return c.failure.has_value(); });
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const auto skipped =
      std::count_if(cases.begin(), cases.end(), [](const JunitCase& c) { return c.skipped.has_value(); });
  const auto counts = "tests=\"" + std::to_string(cases.size()) + "\" failures=\"" + std::to_string(failures) +
                      "\" errors=\"0\" skipped=\"" + std::to_string(skipped) + "\" time=\"" + seconds_text(seconds) +
                      "\"";
  out += "<testsuites name=\"" + xml_escape(suite) + "\" " + counts + ">\n";
  out += "  <testsuite name=\"" + xml_escape(suite) + "\" " + counts + " timestamp=\"" + xml_escape(timestamp_iso8601) +
         "\">\n";
  for (const auto& c : cases) {
    out += "    <testcase name=\"" + xml_escape(c.name) + "\" classname=\"" + xml_escape(c.classname) + "\" time=\"" +
           seconds_text(c.seconds) + "\"";
    if (c.failure) {
      out += ">\n      <failure message=\"" + xml_escape(*c.failure) + "\" type=\"expectation\">" +
             xml_escape(c.details) + "</failure>\n    </testcase>\n";
    } else if (c.skipped) {
      out += ">\n      <skipped message=\"" + xml_escape(*c.skipped) + "\"/>\n    </testcase>\n";
    } else if (!c.details.empty()) {
      out += ">\n      <system-out>" + xml_escape(c.details) + "</system-out>\n    </testcase>\n";
    } else {
      out += "/>\n";
    }
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace epilot
