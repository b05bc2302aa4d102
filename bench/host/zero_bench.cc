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

}  // namespace

BENCHMARK(BM_zero_hot)->DenseRange(0, 4)->ArgName("method");
BENCHMARK(BM_zero_cold)->DenseRange(0, 4)->ArgName("method");
BENCHMARK(BM_zero_then_touch)->DenseRange(0, 4)->ArgName("method");
