// The host benchmark program: starts the memory manager on the simulated machine, then
// hands over to Google Benchmark (its usual flags apply: --benchmark_format=json, ...).
// Ours come first and are taken out before Google Benchmark sees the rest:
//   --topology=SPEC  default $MM_HOST_TOPOLOGY, else "hwloc": the machine the numbers are
//                    measured on (its nodes bound, its CPUs pinned when it has several)
//   --memory=SIZE    the arena, default 6G (1 Mi frames fit the bulk benchmark)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>

#include "every_cpu.h"

extern "C" {
#include <arch/arch.h>
}
#include "tests/host/env.h"

int main(int argc, char** argv) {
  host_env_options opt = {6ull << 30, "hwloc", true};
  const host_env_options defaults = opt;
  if (host_env_take_options(&argc, argv, &opt) != 0) return 2;
  for (int i = 1; i < argc; i++) {
    // Google Benchmark prints its own help and exits inside Initialize.
    if (std::strcmp(argv[i], "--help") == 0) host_env_print_usage(&defaults);
  }
  if (host_env_init(&opt) != 0) return 2;
  RegisterEveryCpuBenchmarks(static_cast<int>(arch_cpu_count()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  char machine[256];
  host_env_describe(machine, sizeof machine);
  benchmark::AddCustomContext("machine", "host (simulated: arena as RAM, threads as CPUs)");
  benchmark::AddCustomContext("topology", machine);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
