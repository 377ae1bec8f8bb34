#include "lib/epilot/check_run.hpp"

#include <utility>

#include "lib/util/constants.hpp"
#include "lib/webhook/raw_http.hpp"

namespace epilot {

namespace {

class LoadSender : public CaseSender {
 public:
  LoadSender(http::LoadPlan plan, std::chrono::milliseconds wait) : m_plan(std::move(plan)), m_wait(wait) {}

  Status send(std::uint64_t count, const std::function<void(std::uint64_t, http::OutgoingRequest&)>& build,
              const std::function<void(http::Delivered&)>& done, const std::atomic<bool>& stop) override {
    http::LoadPlan plan = m_plan;
    plan.total = count;
    plan.connections = 1;
    plan.threads = 1;
    plan.rate = 0;
    plan.duration = std::chrono::milliseconds(0);
    // Retries are for an endpoint still starting up; once it has answered,
    // a connection it closes on a case is that case's answer.
    if (m_first && m_wait.count() > 0) {
      // A try every quarter second until the wait is over, each signed
      // afresh: the wait may be longer than the endpoint's tolerance.
      plan.backoff = std::min(plan.backoff, k_wait_step);
      plan.max_backoff = k_wait_step;
      plan.retries = std::max(plan.retries, static_cast<unsigned>(m_wait / k_wait_step) + 1);
      plan.rebuild_on_retry = true;
    }
    if (!m_first) {
      plan.retries = 0;
    }
    m_first = false;
    auto stats = run_load(
        plan, [&](unsigned, std::uint64_t job, http::OutgoingRequest& out) { build(job, out); },
        [&](unsigned, http::Delivered& delivered) { done(delivered); }, nullptr, &stop);
    if (!stats.ok()) {
      return stats.error();
    }
    return ok_status();
  }

 private:
  static constexpr std::chrono::milliseconds k_wait_step{250};
  http::LoadPlan m_plan;
  std::chrono::milliseconds m_wait;
  bool m_first = true;
};

SentRequest summary_of(const webhook::Capture& request, std::string what) {
  return SentRequest{request.method, request.headers, request.body.size(), std::move(what)};
}

// Sends the cases at `indices` (of the battery) in order, building each as
// its first request goes, and judges each as its last answer comes in.
class BatterySender {
 public:
  // `judged(index, unavailable)`: case `index` has all its answers; when
  // `unavailable` is set, it could not be made after all.
  using Judged = std::function<void(std::size_t, const std::string&)>;
  BatterySender(const BatteryRun& run, std::vector<CaseResult>& results, const Judged& judged)
      : m_run(run), m_results(results), m_judged(judged) {}

  Status send(CaseSender& sender, const std::vector<std::size_t>& indices) {
    m_jobs.clear();
    for (const auto index : indices) {
      for (std::size_t r = 0; r < request_count(m_results[index].info->id); ++r) {
        m_jobs.emplace_back(index, r);
      }
    }
    m_built.assign(m_results.size(), {});
    m_unavailable.assign(m_results.size(), {});
    return sender.send(
        m_jobs.size(), [this](std::uint64_t job, http::OutgoingRequest& out) { build(job, out); },
        [this](http::Delivered& delivered) { deliver(delivered); }, m_stop);
  }

  // Set when the endpoint could no longer be reached: the case it happened on.
  const CaseInfo* gone_at() const { return m_gone_at; }

 private:
  void build(std::uint64_t job, http::OutgoingRequest& out) {
    const auto [index, r] = m_jobs[job];
    auto& built = m_built[index];
    auto& result = m_results[index];
    // Built afresh as its first request goes (and again if that is retried:
    // the signature carries the time).
    if (r == 0 || built.requests.size() <= r) {
      built = build_case(result.info->id, m_run.context(), m_run.keys);
      m_unavailable[index] = built.skipped;
      if (built.requests.empty()) {
        // Availability was decided before the run; should this fill of the
        // body disagree, a job still needs bytes: send genuine's, judge nothing.
        built = build_case(CaseId::genuine, m_run.context(), m_run.keys);
        built.requests.resize(request_count(result.info->id), built.requests.front());
      }
      result.sent = built.sent;
      result.requests.clear();
      for (std::size_t i = 0; i < built.requests.size(); ++i) {
        result.requests.push_back(summary_of(built.requests[i], i < built.each.size() ? built.each[i] : built.sent));
      }
    }
    const auto& request = built.requests[r];
    out.storage = write_raw_http(request);
    const auto head_end = out.storage.find("\r\n\r\n") + 4;
    out.head = out.storage.substr(0, head_end);
    out.body = std::string_view(out.storage).substr(head_end);
    const auto* id = request.find_header(k_header_id);
    out.label = id != nullptr ? *id : std::string();
  }

  void deliver(http::Delivered& delivered) {
    const auto [index, r] = m_jobs[delivered.job];
    auto& result = m_results[index];
    if (delivered.delivery == http::Delivery::unreachable && m_gone_at == nullptr) {
      m_gone_at = result.info;  // the endpoint is gone: sending the rest would only wait on retries
      m_stop.store(true);
    }
    result.latency += delivered.latency;
    CaseAnswer answer;
    answer.classified = classify(delivered);
    answer.delivered = std::move(delivered);
    result.answers.push_back(std::move(answer));
    if (r + 1 == request_count(result.info->id)) {
      m_built[index].requests.clear();  // a 12 MB body need not outlive its case
      m_judged(index, m_unavailable[index]);
    }
  }

  const BatteryRun& m_run;
  std::vector<CaseResult>& m_results;
  const Judged& m_judged;
  std::vector<std::pair<std::size_t, std::size_t>> m_jobs;  // job -> (case, its request)
  std::vector<CaseRequests> m_built;
  std::vector<std::string> m_unavailable;
  std::atomic<bool> m_stop{false};
  const CaseInfo* m_gone_at = nullptr;
};

// The cases after genuine that are sent; the others are settled at once
// (left out, pointless after a refused genuine request, or impossible).
std::vector<std::size_t> cases_to_send(const BatteryRun& run, bool gate_open,
                                       const std::function<void(std::size_t, CaseVerdict, std::string)>& settle) {
  const auto battery = check_battery();
  std::vector<std::size_t> to_send;
  const std::string genuine_body = gate_open ? run.context().base.body : std::string();
  for (std::size_t i = 1; i < battery.size(); ++i) {
    const std::string left_out = i < run.left_out.size() ? run.left_out[i] : std::string();
    if (!left_out.empty()) {
      settle(i, CaseVerdict::skipped, left_out);
    } else if (!gate_open) {
      settle(i, CaseVerdict::inconclusive, "the genuine request was not accepted, so this case would prove nothing");
    } else if (auto why = unavailable_reason(battery[i].id, run.keys, genuine_body); !why.empty()) {
      settle(i, CaseVerdict::skipped, std::move(why));
    } else {
      to_send.push_back(i);
    }
  }
  return to_send;
}

}  // namespace

std::unique_ptr<CaseSender> make_load_sender(http::LoadPlan plan, std::chrono::milliseconds wait) {
  return std::make_unique<LoadSender>(std::move(plan), wait);
}

Result<std::vector<CaseResult>> run_battery(const BatteryRun& run, CaseSender& sender) {
  const auto battery = check_battery();
  std::vector<CaseResult> results(battery.size());
  for (std::size_t i = 0; i < battery.size(); ++i) {
    results[i].info = &battery[i];
  }
  // Cases are reported in battery order, each as soon as it and every case
  // before it are judged.
  std::vector<bool> done(battery.size(), false);
  std::size_t next_report = 0;
  const auto report = [&](std::size_t index) {
    done[index] = true;
    while (next_report < done.size() && done[next_report]) {
      if (run.on_case) {
        run.on_case(results[next_report]);
      }
      ++next_report;
    }
  };
  const BatterySender::Judged judged = [&](std::size_t index, const std::string& unavailable) {
    auto& r = results[index];
    std::vector<std::string> what;
    for (const auto& request : r.requests) {
      what.push_back(request.what);
    }
    r.judgement = unavailable.empty() ? judge_case(*r.info, r.answers, what, run.duplicate)
                                      : Judgement{CaseVerdict::skipped, unavailable};
    report(index);
  };
  const std::function<void(std::size_t, CaseVerdict, std::string)> settle = [&](std::size_t index, CaseVerdict verdict,
                                                                                std::string why) {
    results[index].judgement = {verdict, std::move(why)};
    report(index);
  };

  BatterySender batch(run, results, judged);
  // A genuine request that can't even start (a host that does not resolve)
  // is one that could not be delivered: reported as such, not as an error
  // that leaves no report behind.
  if (auto sent = batch.send(sender, {0}); !sent.ok()) {
    http::Delivered nowhere;
    nowhere.delivery = http::Delivery::unreachable;
    nowhere.error = sent.error().message;
    results[0].answers.push_back(CaseAnswer{nowhere, classify(nowhere)});
  }
  if (!done[0]) {
    judged(0, {});
  }
  const bool gate_open = results[0].judgement.verdict == CaseVerdict::pass;

  const auto to_send = cases_to_send(run, gate_open, settle);
  if (!to_send.empty()) {
    EPILOT_TRY(batch.send(sender, to_send));
  }
  // A case whose requests were not all answered (the endpoint went away)
  // is judged on what came back, or not at all.
  for (const auto i : to_send) {
    if (done[i]) {
      continue;
    }
    if (results[i].answers.empty() && batch.gone_at() != nullptr) {
      settle(i, CaseVerdict::inconclusive, "not run: the endpoint was gone by " + std::string(batch.gone_at()->name));
    } else {
      judged(i, {});
    }
  }
  return results;
}

}  // namespace epilot
