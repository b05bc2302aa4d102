// TLB benchmarks on the host's simulated machine: the software TLB (arch/host/soft_tlb.h)
// plays the MMU, signals play IPIs.
//  - BM_space_switch: mm_set between two spaces, each then reading its 8 pages through the
//    TLB; with PCIDs the entries survive the switch, without them every read refills. The
//    refills per switch are reported beside the time.
//  - BM_shootdown_unmap: unmap of N pages while another thread runs the space (one signal
//    round per unmap), against the same unmap with nobody else in the space.
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "latency.h"

extern "C" {
#include <arch/host/soft_tlb.h>
#include <mm/phys.h>
#include <mm/vmm.h>
}

static constexpr uintptr_t kTlbBenchVa = 0x0000210000000000ull;
static constexpr unsigned kTouchedPages = 8;

static mm_space_t SpaceWithPages(unsigned pages) {
  mm_space_t s = mm_create_space(nullptr);
  if (s &&
      mm_map_range(s, kTlbBenchVa, pages * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US) != kTlbBenchVa) {
    mm_destroy_space(s);
    return nullptr;
  }
  return s;
}

static bool TouchPages() {
  for (unsigned p = 0; p < kTouchedPages; p++) {
    uintptr_t phys;
    if (!host_mmu_access(kTlbBenchVa + p * MM_PAGE_SIZE, false, true, &phys)) return false;
    benchmark::DoNotOptimize(phys);
  }
  return true;
}

static void BM_space_switch(benchmark::State& state) {
  bool pcid = state.range(0) != 0;
  host_set_pcid(pcid);
  mm_space_t a = SpaceWithPages(kTouchedPages), b = SpaceWithPages(kTouchedPages);
  if (!a || !b) {
    state.SkipWithError("setting up the spaces failed");
  } else {
    struct host_tlb_stats before, after;
    host_tlb_stats(arch_cpu_id(), &before);
    LatencyRecorder latency(state);
    bool ok = true;
    for (auto _ : state) {
      uint64_t t0 = BenchCyclesBegin();
      mm_set(a);
      ok &= TouchPages();
      mm_set(b);
      ok &= TouchPages();
      latency.Add(BenchCyclesEnd() - t0);
    }
    host_tlb_stats(arch_cpu_id(), &after);
    latency.Report(2.0);
    if (!ok) state.SkipWithError("a page was not readable");
    state.counters["refills_per_switch"] = static_cast<double>(after.misses - before.misses) /
                                           (2.0 * static_cast<double>(state.iterations()));
  }
  mm_set(mm_kernel_space());
  if (a) mm_destroy_space(a);
  if (b) mm_destroy_space(b);
  host_set_pcid(true);
}
BENCHMARK(BM_space_switch)->ArgName("pcid")->Arg(0)->Arg(1);

static void BM_shootdown_unmap(benchmark::State& state) {
  const size_t pages = static_cast<size_t>(state.range(0));
  const bool remote = state.range(1) > 1;
  mm_space_t space = mm_create_space(nullptr);
  std::atomic<bool> stop{false}, joined{false};
  std::thread other;
  if (remote) {
    other = std::thread([&] {
      mm_set(space);
      joined.store(true);
      while (!stop.load(std::memory_order_relaxed)) arch_cpu_relax();
      mm_set(mm_kernel_space());
    });
    while (!joined.load()) arch_cpu_relax();
  }
  mm_set(space);
  LatencyRecorder latency(state);
  for (auto _ : state) {
    state.PauseTiming();
    uintptr_t va = mm_map_range(space, kTlbBenchVa, pages * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US);
    state.ResumeTiming();
    uint64_t t0 = BenchCyclesBegin();
    int error = mm_umap_range(space, kTlbBenchVa, pages * MM_PAGE_SIZE, 0);
    latency.Add(BenchCyclesEnd() - t0);
    if (va != kTlbBenchVa || error != MM_OK) {
      state.SkipWithError("map or unmap failed");
      break;
    }
  }
  latency.Report();
  mm_set(mm_kernel_space());
  stop.store(true);
  if (other.joinable()) other.join();
  mm_destroy_space(space);
}
BENCHMARK(BM_shootdown_unmap)->ArgNames({"pages", "active"})->ArgsProduct({{1, 512}, {1, 2}});
