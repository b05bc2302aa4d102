// Benchmarks that run on 1 thread and on every CPU of the simulated machine. The CPU count
// is known only once main() has set the machine up, after static registration, so these
// are collected first and registered by RegisterEveryCpuBenchmarks().
#ifndef BENCH_HOST_EVERY_CPU_H
#define BENCH_HOST_EVERY_CPU_H

#include <benchmark/benchmark.h>

using BenchFunction = void (*)(benchmark::State&);
using BenchConfigure = void (*)(benchmark::internal::Benchmark*);

// Remembers fn for registration; configure (may be null) adds its arguments.
int AddEveryCpuBenchmark(const char* name, BenchFunction fn, BenchConfigure configure);

// Registers everything remembered with Threads(1) and Threads(cpus), in real time.
void RegisterEveryCpuBenchmarks(int cpus);

#define EVERY_CPU_BENCHMARK(fn, configure) \
  static const int fn##_every_cpu = AddEveryCpuBenchmark(#fn, fn, configure)

#endif  // BENCH_HOST_EVERY_CPU_H
