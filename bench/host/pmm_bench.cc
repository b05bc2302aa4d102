// Frame allocator microbenchmarks on the host's simulated machine.
#include <benchmark/benchmark.h>

#include "latency.h"

extern "C" {
#include <mm/phys.h>
}

// One frame in and out through the per-CPU cache: the allocator's hot path.
static void BM_pmm_alloc_free_page(benchmark::State& state) {
  mm_phys_set_caching(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    uintptr_t p = mm_phys_alloc_page();
    benchmark::DoNotOptimize(p);
    mm_phys_free_page(p);
  }
  mm_phys_set_caching(1);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) ? "per-CPU cache" : "buddy only");
}
BENCHMARK(BM_pmm_alloc_free_page)->ArgName("cache")->Arg(1)->Arg(0);

// Many frames out, then all back: refill and drain batches, buddy splits and merges.
static void BM_pmm_bulk_alloc_then_free(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<uintptr_t> pages(n);
  for (auto _ : state) {
    for (size_t i = 0; i < n; i++) pages[i] = mm_phys_alloc_page();
    for (size_t i = 0; i < n; i++) mm_phys_free_page(pages[i]);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_pmm_bulk_alloc_then_free)->ArgName("frames")->Arg(1024)->Arg(65536);
