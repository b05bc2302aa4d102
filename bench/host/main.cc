// The host benchmark program: starts the memory manager on the simulated machine, then
// hands over to Google Benchmark (its usual flags apply: --benchmark_format=json, ...).
#include <benchmark/benchmark.h>

#include <cstdio>

#include "tests/host/env.h"

int main(int argc, char** argv) {
  if (host_env_init(4ull << 30, 1, 8) != 0) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("machine", "host (simulated: arena as RAM, threads as CPUs)");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
