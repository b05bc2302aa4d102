// Address-space microbenchmarks on the host's simulated machine: map (frames allocated and
// zeroed) then unmap (one shootdown, frames freed) of N 4 KiB pages.
#include <benchmark/benchmark.h>

#include "latency.h"

extern "C" {
#include <mm/phys.h>
#include <mm/vmm.h>
}

static constexpr uintptr_t kBenchVa = 0x0000200000000000ull;

// map+unmap of range(0) pages of page_size bytes, each timed.
static void MapUnmap(benchmark::State& state, uintptr_t page_size, uint32_t flags) {
  const size_t pages = static_cast<size_t>(state.range(0));
  mm_space_t space = mm_create_space(nullptr);
  if (!space) {
    state.SkipWithError("mm_create_space failed");
    return;
  }
  LatencyRecorder latency(state);
  for (auto _ : state) {
    uint64_t t0 = BenchCyclesBegin();
    uintptr_t va = mm_map_range(space, kBenchVa, pages * page_size, MM_FLG_WR | MM_FLG_US | flags);
    int error = mm_umap_range(space, kBenchVa, pages * page_size, 0);
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

static void BM_vmm_map_unmap(benchmark::State& state) { MapUnmap(state, MM_PAGE_SIZE, 0); }
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

// ---- Issue 4: large pages, faults, fork, and one space shared by every CPU -----------------

extern "C" {
#include <mm/region.h>
}

#include "every_cpu.h"

// map+unmap of N 2 MiB pages (MM_FLG_PS; each frame zeroed: 2 MiB of stores).
static void BM_vmm_map_unmap_2m(benchmark::State& state) {
  MapUnmap(state, MM_LARGE_PAGE_SIZE, MM_FLG_PS);
}
BENCHMARK(BM_vmm_map_unmap_2m)->ArgName("pages")->Arg(1)->Arg(16);

// Faults through mm_fault (the host has no MMU to raise them): a demand-zero write, a read
// mapping the zero page, and a copy-on-write break after fork. Each iteration is one fault
// on a fresh page; the region is remade every 512 faults, outside the timed part.
enum FaultKind { kDemandZeroWrite, kZeroPageRead, kCowWrite };

static void BM_fault(benchmark::State& state) {
  const auto kind = static_cast<FaultKind>(state.range(0));
  constexpr size_t kPages = 512;
  mm_space_t space = mm_create_space(nullptr);
  mm_space_t child = nullptr;
  size_t next = kPages;
  LatencyRecorder latency(state);
  auto remake = [&] {
    if (child) mm_destroy_space(child);
    child = nullptr;
    mm_umap_range(space, kBenchVa, kPages * MM_PAGE_SIZE, 0);
    uint32_t flags = MM_FLG_WR | MM_REGION_FIXED | (kind == kCowWrite ? MM_REGION_POPULATE : 0);
    mm_region_spec spec = {kBenchVa, kPages * MM_PAGE_SIZE, flags, MM_SECTION_DATA, nullptr, 0};
    mm_region_map(space, &spec);
    if (kind == kCowWrite) {
      child = mm_create_space(nullptr);
      mm_space_fork(child, space, MM_FLG_CLONE_USER);
    }
    next = 0;
  };
  for (auto _ : state) {
    if (next == kPages) {
      state.PauseTiming();
      remake();
      state.ResumeTiming();
    }
    uintptr_t va = kBenchVa + next++ * MM_PAGE_SIZE;
    mm_space_t target = kind == kCowWrite ? child : space;
    uint32_t access = MM_FAULT_USER | (kind == kZeroPageRead ? 0 : MM_FAULT_WRITE) |
                      (kind == kCowWrite ? MM_FAULT_PRESENT : 0);
    uint64_t t0 = BenchCyclesBegin();
    int error = mm_fault(target, va, access);
    latency.Add(BenchCyclesEnd() - t0);
    if (error != MM_OK) {
      state.SkipWithError("fault not resolved");
      break;
    }
  }
  latency.Report();
  if (child) mm_destroy_space(child);
  mm_destroy_space(space);
  static const char* kNames[] = {"demand-zero write", "zero-page read", "COW write"};
  state.SetLabel(kNames[kind]);
}
BENCHMARK(BM_fault)->ArgName("kind")->Arg(kDemandZeroWrite)->Arg(kZeroPageRead)->Arg(kCowWrite);

// fork (copy-on-write) of a space holding N MiB of written memory, then the child's end.
static void BM_fork(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0)) << 20;
  mm_space_t parent = mm_create_space(nullptr);
  if (bytes) mm_map_range(parent, kBenchVa, bytes, MM_FLG_WR | MM_FLG_US);
  LatencyRecorder latency(state);
  for (auto _ : state) {
    mm_space_t child = mm_create_space(nullptr);
    uint64_t t0 = BenchCyclesBegin();
    int error = mm_space_fork(child, parent, MM_FLG_CLONE_USER);
    latency.Add(BenchCyclesEnd() - t0);
    state.PauseTiming();
    mm_destroy_space(child);
    state.ResumeTiming();
    if (error != MM_OK) {
      state.SkipWithError("fork failed");
      break;
    }
  }
  latency.Report();
  mm_destroy_space(parent);
}
BENCHMARK(BM_fork)->ArgName("MiB")->Arg(0)->Arg(16)->Arg(256)->Unit(benchmark::kMicrosecond);

// One space, every thread mapping and unmapping 16 pages in its own 1 GiB window: with the
// shard locks, threads should not wait for each other.
static mm_space_t shared_space;

static void BM_vmm_disjoint_ranges_one_space(benchmark::State& state) {
  if (state.thread_index() == 0) shared_space = mm_create_space(nullptr);
  // Google Benchmark starts the timed loop of every thread together, after this setup.
  uintptr_t va = kBenchVa + static_cast<uintptr_t>(state.thread_index() + 1) * MM_HUGE_PAGE_SIZE;
  for (auto _ : state) {
    mm_map_range(shared_space, va, 16 * MM_PAGE_SIZE, MM_FLG_WR | MM_FLG_US);
    mm_umap_range(shared_space, va, 16 * MM_PAGE_SIZE, 0);
  }
  state.SetItemsProcessed(state.iterations() * 16);
}
EVERY_CPU_BENCHMARK(BM_vmm_disjoint_ranges_one_space, nullptr);
