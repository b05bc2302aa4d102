// Address-space microbenchmarks on the host's simulated machine: map (frames allocated and
// zeroed) then unmap (one shootdown, frames freed) of N 4 KiB pages.
#include <benchmark/benchmark.h>

#include "latency.h"

extern "C" {
#include <mm/phys.h>
#include <mm/vmm.h>
}

static constexpr uintptr_t kBenchVa = 0x0000200000000000ull;

static void BM_vmm_map_unmap(benchmark::State& state) {
  const size_t pages = static_cast<size_t>(state.range(0));
  mm_space_t space = mm_create_space(nullptr);
  if (!space) {
    state.SkipWithError("mm_create_space failed");
    return;
  }
  LatencyRecorder latency(state);
  for (auto _ : state) {
    uint64_t t0 = BenchCyclesBegin();
    uintptr_t va = mm_map_range(space, kBenchVa, pages * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US);
    int error = mm_umap_range(space, kBenchVa, pages * MM_PAGE_SIZE, 0);
    latency.Add(BenchCyclesEnd() - t0);
    if (va != kBenchVa || error != MM_OK) {
      state.SkipWithError("map or unmap failed");
      break;
    }
  }
  latency.Report();
  mm_destroy_space(space);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(pages));
}
BENCHMARK(BM_vmm_map_unmap)->ArgName("pages")->Arg(1)->Arg(16)->Arg(256)->Arg(4096);

// Zeroing alone, the cost that should dominate mapping: the same pages, no page tables.
static void BM_zero_page(benchmark::State& state) {
  uintptr_t p = mm_phys_alloc_page();
  for (auto _ : state) {
    arch_zero(MM_VIRTUALIZE(p), MM_PAGE_SIZE);
    benchmark::ClobberMemory();
  }
  mm_phys_free_page(p);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(MM_PAGE_SIZE));
}
BENCHMARK(BM_zero_page);
