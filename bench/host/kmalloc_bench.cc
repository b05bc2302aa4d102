// Kernel heap microbenchmarks on the host's simulated machine: one kmalloc + kfree pair
// per iteration, 16 bytes to 4 KiB (the per-CPU cache's hot path up to 2048 bytes, whole
// frames above), from one thread and from one thread per CPU at once; and a batch of
// allocations then frees, which goes through the slabs' refill and drain.
#include <benchmark/benchmark.h>

#include <vector>

extern "C" {
#include <mm/kmalloc.h>
}

// More benchmark threads than simulated CPUs would make a thread wait for a free CPU
// forever (the host backend aborts instead): skip such runs.
static bool EnoughCpus(benchmark::State& state) {
  if (static_cast<unsigned>(state.threads()) <= arch_cpu_count()) return true;
  state.SkipWithError("more threads than the simulated machine has CPUs");
  return false;
}

static void BM_kmalloc_kfree(benchmark::State& state) {
  if (!EnoughCpus(state)) return;
  const size_t bytes = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void* p = kmalloc(bytes);
    benchmark::DoNotOptimize(p);
    kfree(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_kmalloc_kfree)
    ->ArgName("bytes")
    ->RangeMultiplier(2)
    ->Range(16, 4096)
    ->Threads(1)
    ->ThreadPerCpu()
    ->UseRealTime();

// n objects out, then all back: every per-CPU cache batch goes to and from the slabs.
static void BM_kmalloc_batch(benchmark::State& state) {
  if (!EnoughCpus(state)) return;
  const size_t bytes = static_cast<size_t>(state.range(0));
  std::vector<void*> p(1024);
  for (auto _ : state) {
    for (auto& q : p) q = kmalloc(bytes);
    for (auto* q : p) kfree(q);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(p.size()));
}
BENCHMARK(BM_kmalloc_batch)
    ->ArgName("bytes")
    ->Arg(64)
    ->Arg(1024)
    ->Threads(1)
    ->ThreadPerCpu()
    ->UseRealTime();
