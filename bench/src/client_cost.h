// What one contender's client costs while it runs, beside its wall time: CPU seconds (user +
// system) and minor page faults of every thread of this process, and its instructions in the
// `--only coldcount` run under callgrind (callgrind_marks.h). Counted over one or more windows,
// so that a check between them (the state read back after the clock) is left out.
#pragma once

namespace kring::bench {

class ClientCost {
 public:
  // `count_instructions`: zero callgrind's counts now and count this thread inside the windows;
  // the threads started meanwhile are counted from here to Dump (valgrind's --toggle-collect).
  explicit ClientCost(bool count_instructions);
  void Resume();  // a window starts
  void Pause();   // and ends
  // Writes the instructions counted since the constructor under `mark` (when counting them).
  void Dump(const char* mark) const;

  double cpu_seconds() const { return cpu_seconds_; }
  double minor_faults() const { return minor_faults_; }

 private:
  bool count_instructions_;
  double cpu_at_resume_ = 0;
  double faults_at_resume_ = 0;
  double cpu_seconds_ = 0;
  double minor_faults_ = 0;
};

}  // namespace kring::bench
