#pragma once

// The last step of epilot's wait_for_callback flow, taken as a real
// asynchronous action takes it: after answering a request whose body
// carries data.resume_token and data.callback_post_url, POST
// {"resume_token": "..."} to that URL (epilot's docs, "Custom Automated Action").
//
// `listen` does this for requests that verified, so the calls go out on
// threads of their own, off the request path, and everything is bounded:
// how many may wait, how long each may take (the HttpClient's timeout), and
// how long the last ones may take once listen stops. Redirects are
// answers, never followed: the token goes to the URL the request named
// and nowhere else.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lib/http/client.hpp"

namespace epilot {

struct ResumeCall {
  std::string url;                                   // data.callback_post_url
  std::string token;                                 // data.resume_token: it resumes the flow, so it is never shown
  std::string webhook_id;                            // of the request that carried it, for the report
  std::chrono::steady_clock::time_point not_before;  // not sent before this (the answer is out by then)
};

// The call a custom-action body asks for; nullopt unless the body is a JSON
// object whose `data` holds a non-empty string `resume_token` and a string
// `callback_post_url` (its validity is the sender's to judge).
std::optional<ResumeCall> resume_call_of(std::string_view body);

// {"resume_token": token}: all that epilot's ResumeReq allows.
std::string resume_body(const std::string& token);

struct ResumeOutcome {
  ResumeCall call;
  std::optional<int> status;  // the answer's, when one came
  std::string error;          // otherwise, what went wrong
  std::chrono::milliseconds took{0};
  bool ok() const { return status && *status >= 200 && *status < 300; }
};

class ResumeQueue {
 public:
  using Report = std::function<void(const ResumeOutcome&)>;

  // Calls go out through `http` (whose post() may be called from several
  // threads at once) on `threads` threads; at most `max_pending` wait to be
  // sent. `report` is told of every call submitted, sent or not, on those
  // threads.
  ResumeQueue(http::HttpClient& http, unsigned threads, std::size_t max_pending, Report report);
  ~ResumeQueue();
  ResumeQueue(const ResumeQueue&) = delete;
  ResumeQueue& operator=(const ResumeQueue&) = delete;

  // Queue `call`; false, with nothing queued, when `max_pending` already wait.
  bool submit(ResumeCall call);

  // Send what is queued, then end the threads. Calls that could not start
  // by `deadline` are reported as not sent. Called once; the destructor
  // calls it with a deadline of now.
  void finish(std::chrono::steady_clock::time_point deadline);

 private:
  void work();
  std::optional<ResumeCall> next();
  void send(ResumeCall call);

  http::HttpClient& m_http;
  std::size_t m_max_pending;
  Report m_report;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<ResumeCall> m_queue;
  std::optional<std::chrono::steady_clock::time_point> m_deadline;  // set by finish()
  std::vector<std::thread> m_threads;
};

}  // namespace epilot
