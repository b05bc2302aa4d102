// Zeroing methods for arch_zero(), measured on this CPU: a 4 KiB page hot in the cache,
// and pages of a working set much larger than the last-level cache (cold), beside the
// bandwidth of libc's memset (AVX stores) on the same cold set.
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>

extern "C" {
#include <arch/x86_64/zero.h>
}

namespace {

using ZeroFn = void (*)(void*, size_t);

void LibcMemset(void* va, size_t bytes) { memset(va, 0, bytes); }

constexpr size_t kPage = 4096;
constexpr size_t kColdSet = size_t{512} << 20;  // far beyond any LLC here

struct Method {
  const char* name;
  ZeroFn fn;
};

const Method kMethods[] = {
    {"rep_stosb", x86_zero_rep_stosb}, {"rep_stosq", x86_zero_rep_stosq},
    {"movnti", x86_zero_movnti},       {"stores", x86_zero_stores},
    {"libc_memset", LibcMemset},
};

uint8_t* ColdSet() {
  static uint8_t* set = [] {
    void* p = mmap(nullptr, kColdSet, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    auto* bytes = static_cast<uint8_t*>(p);
    memset(bytes, 1, kColdSet);  // fault it in: measure stores, not page faults
    return bytes;
  }();
  return set;
}

void BM_zero_hot(benchmark::State& state) {
  const Method& m = kMethods[state.range(0)];
  alignas(64) static uint8_t page[kPage];
  for (auto _ : state) {
    m.fn(page, kPage);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPage));
  state.SetLabel(m.name);
}

void BM_zero_cold(benchmark::State& state) {
  const Method& m = kMethods[state.range(0)];
  uint8_t* set = ColdSet();
  size_t offset = 0;
  for (auto _ : state) {
    m.fn(set + offset, kPage);
    offset = (offset + kPage) % kColdSet;
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPage));
  state.SetLabel(m.name);
}

// Zero then read back the page, as a fault handler's caller does at once: non-temporal
// stores save the cache but pay on this first touch.
void BM_zero_then_touch(benchmark::State& state) {
  const Method& m = kMethods[state.range(0)];
  uint8_t* set = ColdSet();
  size_t offset = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    m.fn(set + offset, kPage);
    const uint64_t* words = reinterpret_cast<const uint64_t*>(set + offset);
    for (size_t i = 0; i < kPage / 8; i += 8) sum += words[i];
    offset = (offset + kPage) % kColdSet;
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPage));
  state.SetLabel(m.name);
}

// Zeroing off the fault path, decided by measurement (docs/design.md, "Zeroing"): what a
// demand-zero fault pays for its frame's zeros and the first touch after them, for a frame
// from each source a fault could take it from:
//   source 0  zeroed at the fault, the frame hot (just freed: what the per-CPU cache's LIFO
//             stack hands out first)
//   source 1  zeroed at the fault, the frame cold (not used for long)
//   source 2  zeroed long before, by an idle CPU or in the background (a pre-zeroed pool):
//             no zeroing at the fault, but the frame is cold by the time it is taken
//   source 3  the background's own cost: zeroing one cold frame ahead of time, paid by
//             another CPU (or an idle one), never hidden: source 2's figure plus this one is
//             what a pre-zeroed frame costs the machine
// The touch is what the faulting program does next: one store per cache line into `lines`
// of the page's 64 (1: a sparse use, 64: every line, as memset or a fresh stack would). The
// pages walk the 512 MiB set, far beyond the LLC, so cold means cold; source 2's set was
// zeroed once at start-up, long evicted when each page comes round.
void BM_demand_zero(benchmark::State& state) {
  const int source = static_cast<int>(state.range(0));
  const size_t lines = static_cast<size_t>(state.range(1));
  uint8_t* set = ColdSet();
  if (source == 2) memset(set, 0, kColdSet);  // the pool, zeroed ahead
  alignas(64) static uint8_t hot[kPage];
  size_t offset = 0;
  for (auto _ : state) {
    uint8_t* page = source == 0 ? hot : set + offset;
    if (source != 2) x86_zero_rep_stosb(page, kPage);
    if (source != 3) {
      for (size_t i = 0; i < lines; i++) page[i * 64] = 1;
    }
    offset = (offset + kPage) % kColdSet;
    benchmark::ClobberMemory();
  }
  // The set is every benchmark's: give source 2's zeros back as the others found it.
  if (source == 2) memset(set, 1, kColdSet);
  static const char* const kSources[] = {"zero at fault, hot frame", "zero at fault, cold frame",
                                         "pre-zeroed, cold frame", "background zeroing per frame"};
  state.SetLabel(kSources[source]);
}

}  // namespace

BENCHMARK(BM_demand_zero)
    ->ArgNames({"source", "lines"})
    ->ArgsProduct({{0, 1, 2}, {1, 64}})
    ->Args({3, 0});
BENCHMARK(BM_zero_hot)->DenseRange(0, 4)->ArgName("method");
BENCHMARK(BM_zero_cold)->DenseRange(0, 4)->ArgName("method");
BENCHMARK(BM_zero_then_touch)->DenseRange(0, 4)->ArgName("method");
