#include "client_cost.h"

#include <stdexcept>

#include <sys/resource.h>

#include "callgrind_marks.h"

namespace kring::bench {
namespace {

struct Usage {
  double cpu_seconds;
  double minor_faults;
};

Usage ProcessUsage() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) throw std::runtime_error("getrusage failed");
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return {seconds(u.ru_utime) + seconds(u.ru_stime), static_cast<double>(u.ru_minflt)};
}

}  // namespace

ClientCost::ClientCost(bool count_instructions) : count_instructions_(count_instructions) {
  if (count_instructions_) ZeroCallgrindCounts();
}

void ClientCost::Resume() {
  if (count_instructions_) ToggleCallgrindCounting();
  const Usage u = ProcessUsage();
  cpu_at_resume_ = u.cpu_seconds;
  faults_at_resume_ = u.minor_faults;
}

void ClientCost::Pause() {
  const Usage u = ProcessUsage();
  cpu_seconds_ += u.cpu_seconds - cpu_at_resume_;
  minor_faults_ += u.minor_faults - faults_at_resume_;
  if (count_instructions_) ToggleCallgrindCounting();
}

void ClientCost::Dump(const char* mark) const {
  if (count_instructions_) DumpCallgrindCounts(mark);
}

}  // namespace kring::bench
