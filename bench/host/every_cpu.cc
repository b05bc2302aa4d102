// The deferred registry behind EVERY_CPU_BENCHMARK.
#include "every_cpu.h"

#include <vector>

namespace {

struct Entry {
  const char* name;
  BenchFunction fn;
  BenchConfigure configure;
};

std::vector<Entry>& Entries() {
  static std::vector<Entry> entries;
  return entries;
}

}  // namespace

int AddEveryCpuBenchmark(const char* name, BenchFunction fn, BenchConfigure configure) {
  Entries().push_back({name, fn, configure});
  return 0;
}

void RegisterEveryCpuBenchmarks(int cpus) {
  for (const Entry& e : Entries()) {
    auto* b = benchmark::RegisterBenchmark(e.name, e.fn);
    if (e.configure) e.configure(b);
    b->Threads(1);
    if (cpus > 1) b->Threads(cpus);
    b->UseRealTime();
  }
}
