// proctime: time whole processes, alternating between commands so that
// machine noise hits each alike, and print each median and its ratio to the
// first command's (the reference) and, from the third on, to the one before.
//
//   proctime RUNS NAME CMD ARGS... :: NAME CMD ARGS... [:: ...]
//   proctime once CMD ARGS...     (prints "SECONDS PEAK_RSS_KB" of one run)
//
// Each command runs with stdout and stderr sent to /dev/null; a command that
// exits non-zero aborts the benchmark, so a broken setup cannot look fast.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace {

struct Command {
  std::string name;
  std::vector<char*> argv;
  std::vector<double> times;
};

double now_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double run_once(Command& c) {
  const double start = now_seconds();
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execvp(c.argv[0], c.argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double elapsed = now_seconds() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "proctime: %s failed (status %d)\n", c.name.c_str(), status);
    std::exit(1);
  }
  return elapsed;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

// One run with its peak resident memory, for the memory targets.
int run_once_with_rss(char** argv) {
  const double start = now_seconds();
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  const double elapsed = now_seconds() - start;
  std::printf("%.3f %ld\n", elapsed, usage.ru_maxrss);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "once") {
    return run_once_with_rss(argv + 2);
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: proctime RUNS NAME CMD ARGS... [:: NAME CMD ARGS...]\n");
    return 2;
  }
  const int runs = std::atoi(argv[1]);
  std::vector<Command> commands(1);
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "::") {
      commands.emplace_back();
      continue;
    }
    auto& c = commands.back();
    if (c.name.empty()) {
      c.name = argv[i];
    } else {
      c.argv.push_back(argv[i]);
    }
  }
  for (auto& c : commands) {
    c.argv.push_back(nullptr);
    run_once(c);  // warm the page cache
  }
  for (int r = 0; r < runs; ++r) {
    for (auto& c : commands) {
      c.times.push_back(run_once(c));
    }
  }
  const double reference = median(commands[0].times);
  double previous = reference;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const double m = median(commands[i].times);
    std::printf("%-26s median %8.3f ms  %5.2fx %s", commands[i].name.c_str(), m * 1e3, m / reference,
                commands[0].name.c_str());
    if (i > 1) {
      std::printf("  %5.2fx %s", m / previous, commands[i - 1].name.c_str());
    }
    std::printf("\n");
    previous = m;
  }
  return 0;
}
