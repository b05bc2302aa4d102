// Frame allocator microbenchmarks on the host's simulated machine. Multi-thread cases run
// on 1 thread and on every CPU of the topology (each thread plays a CPU); BM_calibration
// runs pure arithmetic the same way, so a reader can tell whether the threads really ran at
// once or shared cores with something else. Google Benchmark's multi-thread real_time is
// wall time over every thread's iterations (an aggregate): when N threads really ran at once
// the calibration's real_time drops to 1/N of the 1-thread figure and its time per thread
// (the report's ns/thread) stays flat; when they shared cores, the time per thread grows.
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>
#include <vector>

#include "every_cpu.h"

extern "C" {
#include <mm/phys.h>
}

namespace {

// benchmark::DoNotOptimize lets the compiler keep the value in memory, and clang does: the
// frame's address went to the stack and back between the two calls, a store and a load whose
// cost depended on where the stack happened to start (4 KiB aliasing with the allocator's own
// stores), which moved the pair's figure by half from one process to the next. A register
// operand alone keeps the value opaque without that.
template <typename T>
inline void KeepInRegister(T& value) {
  asm volatile("" : "+r"(value));
}

void BM_calibration(benchmark::State& state) {
  uint64_t x = 1;
  for (auto _ : state) {
    for (int i = 0; i < 64; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
    benchmark::DoNotOptimize(x);
  }
}
EVERY_CPU_BENCHMARK(BM_calibration, nullptr);

// The same arithmetic made wide instead of long: six independent chains of adds and xors
// that a core retires several to a cycle. A chain of multiplications waits on its own
// latency and runs the same whatever else the core does; this one needs the core's issue
// slots, which a busy sibling hyperthread takes (from outside the machine, on a shared
// host). Its median above its fastest repetition is how disturbed a run was: in one
// measurement, windows where the frame pair took 15.4 ns instead of 9.0 had this at 5.7
// instead of 4.5, with the multiply chain unmoved (docs/benchmarks.md, "Host figures that
// repeat").
void BM_calibration_throughput(benchmark::State& state) {
  uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
  for (auto _ : state) {
    for (uint64_t k = 0; k < 8; k++) {
      a += k, b ^= k, c += a, d ^= b, e += c, f ^= d;
      asm volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f));
    }
  }
  benchmark::DoNotOptimize(a + b + c + d + e + f);
}
EVERY_CPU_BENCHMARK(BM_calibration_throughput, nullptr);

// The same for memory: each thread chases pointers through its own 16 MiB (a random cycle of
// cache lines, beyond the per-core caches, as the bulk benchmark's frame descriptors are).
// Nothing is shared, so what its time per thread grows by at N threads is what the machine's
// caches and memory give, the ceiling for any allocator's scaling on it.
void BM_calibration_memory(benchmark::State& state) {
  constexpr size_t kLines = size_t{16} << 20 >> 6;
  struct alignas(64) Line {
    uint32_t next;
  };
  std::vector<Line> lines(kLines);
  std::vector<uint32_t> order(kLines);
  for (size_t i = 0; i < kLines; i++) order[i] = static_cast<uint32_t>(i);
  uint64_t seed = 88172645463325252ull + static_cast<uint64_t>(state.thread_index());
  for (size_t i = kLines - 1; i > 0; i--) {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    std::swap(order[i], order[seed % (i + 1)]);
  }
  for (size_t i = 0; i < kLines; i++) lines[order[i]].next = order[(i + 1) % kLines];
  uint32_t at = order[0];
  for (auto _ : state) {
    for (int i = 0; i < 16; i++) at = lines[at].next;
    benchmark::DoNotOptimize(at);
  }
}
EVERY_CPU_BENCHMARK(BM_calibration_memory, nullptr);

// One frame in and out through the per-CPU cache (the hot path), or straight from the
// buddy zone with the caches switched off: the ratio is what the caches buy.
void BM_pmm_alloc_free_page(benchmark::State& state) {
  if (state.thread_index() == 0) mm_phys_set_caching(static_cast<int>(state.range(0)));
  // Straight from the buddy, a pair's cost depends on what the zone holds: a zone no
  // earlier benchmark has cut into splits a 1 GiB block down to one frame for every
  // allocation and merges it all back on the free (the pair took 74 ns per thread in a
  // fresh zone, 37 in a used one, so the figure followed the order the benchmarks ran in).
  // One frame held through the loop fixes the state: its buddy is the free frame the pair
  // takes and gives back, one list operation each way.
  const uintptr_t held = state.range(0) ? MM_NADDR : mm_phys_alloc_page();
  for (auto _ : state) {
    uintptr_t p = mm_phys_alloc_page();
    KeepInRegister(p);
    mm_phys_free_page(p);
  }
  if (held != MM_NADDR) mm_phys_free_page(held);
  if (state.thread_index() == 0) mm_phys_set_caching(1);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) ? "per-CPU cache" : "buddy only");
}
EVERY_CPU_BENCHMARK(BM_pmm_alloc_free_page,
                    [](benchmark::internal::Benchmark* b) { b->ArgName("cache")->Arg(1)->Arg(0); });

// Many frames out, then all back: refills and drains in batches, buddy splits and merges.
// The frames are shared out between the threads (1 Mi frames in all is 4 GiB); reported per
// frame and thread.
void BM_pmm_bulk_alloc_then_free(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0)) / static_cast<size_t>(state.threads());
  std::vector<uintptr_t> pages(n);
  for (auto _ : state) {
    for (size_t i = 0; i < n; i++) pages[i] = mm_phys_alloc_page();
    for (size_t i = 0; i < n; i++) {
      if (mm_phys_free_page(pages[i]) != MM_OK) {
        state.SkipWithError("out of frames: give the arena more --memory");
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
  state.counters["ns_per_frame"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
EVERY_CPU_BENCHMARK(BM_pmm_bulk_alloc_then_free, [](benchmark::internal::Benchmark* b) {
  b->ArgName("frames")->Arg(1024)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
});

// Frames allocated on one CPU and freed on another: thread 0 allocates and passes each
// frame through a ring, thread 1 frees it (into its own cache, as the design intends).
struct Ring {
  static constexpr size_t kSize = 4096;
  std::atomic<uint64_t> head{0}, tail{0};
  uintptr_t slot[kSize];
};
Ring ring;

void BM_pmm_remote_free(benchmark::State& state) {
  const bool producer = state.thread_index() == 0;
  for (auto _ : state) {
    if (producer) {
      uintptr_t p = mm_phys_alloc_page();
      uint64_t h = ring.head.load(std::memory_order_relaxed);
      while (h - ring.tail.load(std::memory_order_acquire) >= Ring::kSize)
        std::this_thread::yield();
      ring.slot[h % Ring::kSize] = p;
      ring.head.store(h + 1, std::memory_order_release);
    } else {
      uint64_t t = ring.tail.load(std::memory_order_relaxed);
      while (ring.head.load(std::memory_order_acquire) == t) std::this_thread::yield();
      mm_phys_free_page(ring.slot[t % Ring::kSize]);
      ring.tail.store(t + 1, std::memory_order_release);
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pmm_remote_free)->Threads(2)->UseRealTime();

// 2 MiB pages (the per-CPU 2 MiB cache) and 1 GiB pages (the buddy zone).
void BM_pmm_alloc_free_large(benchmark::State& state) {
  const uint32_t flags = state.range(0) == 2 ? MM_FLG_PS : MM_FLG_PS1G;
  for (auto _ : state) {
    uintptr_t p = mm_alloc_physical_page(flags);
    if (p == MM_NADDR) {
      state.SkipWithError("no free page of that size");
      break;
    }
    mm_free_physical_page(p, flags);
  }
  state.SetLabel(state.range(0) == 2 ? "2 MiB" : "1 GiB");
}
BENCHMARK(BM_pmm_alloc_free_large)->ArgName("size_mib_or_gib")->Arg(2)->Arg(1);

// A contiguous run of N frames, freed page by page.
void BM_pmm_contiguous(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    uintptr_t p = mm_phys_alloc_contiguous(n);
    for (size_t i = 0; i < n; i++) mm_phys_free_page(p + i * MM_PAGE_SIZE);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_pmm_contiguous)->ArgName("frames")->Arg(8)->Arg(512);

}  // namespace
