// Results of one benchmark run: absolute floors (orientation only) and A/B comparisons measured
// in alternating rounds, written as Markdown and JSON.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kring::bench {

double Median(std::vector<double> v);
double Min(const std::vector<double>& v);
double Max(const std::vector<double>& v);

// Seconds since an arbitrary point (steady clock).
inline double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One absolute figure measured in several rounds.
struct Floor {
  std::string group;  // "libsodium", "sqlite", ...
  std::string name;
  std::string unit;  // "ops/s", "rows/s", "MB/s"
  std::vector<double> rounds;
};

// A compared with B in alternating rounds; ratio = A/B per round.
struct Comparison {
  std::string workload;
  std::string a_name;
  std::string b_name;
  std::string unit;  // unit of the absolute values ("s", "ops/s", "ns/op", "instr/op")
  bool higher_is_better = false;
  std::vector<double> a;         // per round
  std::vector<double> b;         // per round, same length
  std::optional<double> target;  // on the ratio A/B: >= when higher_is_better, else <=
  std::string target_text;
  std::string note;

  std::vector<double> Ratios() const;
  std::string Verdict() const;  // "met", "NOT met" or "-"
};

struct Report {
  std::string started_at;
  std::string machine;
  std::string command;
  int rounds = 0;
  std::vector<Floor> floors;
  std::vector<Comparison> comparisons;
  std::vector<std::string> notes;

  void WriteMarkdown(const std::string& path) const;
  void WriteJson(const std::string& path) const;
};

}  // namespace kring::bench
