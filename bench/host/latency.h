// Per-iteration latency for host benchmarks: each timed region is measured with the TSC,
// and the median and 99th percentile are reported as counters beside Google Benchmark's
// mean (p50_ns, p99_ns, p50_cycles, p99_cycles), the same counters the kernel reports.
#ifndef BENCH_HOST_LATENCY_H
#define BENCH_HOST_LATENCY_H

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

extern "C" {
#include <arch/arch.h>
}

class LatencyRecorder {
 public:
  explicit LatencyRecorder(benchmark::State& state) : state_(state) { samples_.reserve(1 << 16); }

  void Add(uint64_t cycles) { samples_.push_back(cycles); }

  // Publishes the percentiles, per `items` (pages, frames) when the region did several.
  void Report(double items = 1.0) {
    if (samples_.empty()) return;
    std::sort(samples_.begin(), samples_.end());
    double hz = static_cast<double>(arch_cycles_per_second());
    auto pct = [&](double q) {
      size_t i = static_cast<size_t>(q * static_cast<double>(samples_.size() - 1));
      return static_cast<double>(samples_[i]) / items;
    };
    state_.counters["p50_cycles"] = pct(0.50);
    state_.counters["p99_cycles"] = pct(0.99);
    if (hz > 0) {
      state_.counters["p50_ns"] = pct(0.50) * 1e9 / hz;
      state_.counters["p99_ns"] = pct(0.99) * 1e9 / hz;
    }
  }

 private:
  benchmark::State& state_;
  std::vector<uint64_t> samples_;
};

// Serialising TSC reads around a region, so the region's instructions stay inside.
static inline uint64_t BenchCyclesBegin() {
  uint32_t lo, hi;
  __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

static inline uint64_t BenchCyclesEnd() { return BenchCyclesBegin(); }

#endif  // BENCH_HOST_LATENCY_H
