// MM_BENCH_ITERATIONS=N in the environment: every benchmark runs exactly N iterations per
// repetition instead of as many as fill Google Benchmark's minimum time.
//
// `tools/mm bench --callgrind` divides each benchmark's instruction count by its iterations;
// the quotient repeats from run to run only when the iteration count does, and Google
// Benchmark picks that count by timing. Version 1.8 has a flag for it
// (--benchmark_min_time=Nx); Debian 12 ships 1.7.1, which has not.
//
// Every registration, by the BENCHMARK macros or by benchmark::RegisterBenchmark, calls
// benchmark::internal::RegisterBenchmarkInternal from our own code. Defined here, in the
// executable, this definition is the one the linker binds those calls to (a definition in the
// program wins over the shared library's): it sets the iteration count when the variable asks
// for one, then hands the benchmark to the library's own definition, found by dlsym.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace benchmark {
namespace internal {

Benchmark* RegisterBenchmarkInternal(Benchmark* bench) {
  using Register = Benchmark* (*)(Benchmark*);
  static const Register library = reinterpret_cast<Register>(
      dlsym(RTLD_NEXT, "_ZN9benchmark8internal25RegisterBenchmarkInternalEPNS0_9BenchmarkE"));
  if (library == nullptr) {
    std::fprintf(stderr, "host_bench: libbenchmark's RegisterBenchmarkInternal not found\n");
    std::abort();
  }
  static const long fixed = [] {
    const char* text = std::getenv("MM_BENCH_ITERATIONS");
    return text ? std::strtol(text, nullptr, 10) : 0L;
  }();
  if (fixed > 0) bench->Iterations(fixed);
  return library(bench);
}

}  // namespace internal
}  // namespace benchmark
