/*
 * Clang's thread-safety analysis (-Wthread-safety), as Zircon and Abseil use it: a lock is a
 * capability, functions say which locks they take, give back or need, and fields which
 * lock guards them; the compiler checks every call site. Other compilers see nothing.
 *
 * In C, clang cannot name a sibling member in a field's guarded_by, so the guarded data is
 * named by the functions that need the lock (TA_REQUIRES) rather than on the fields. The
 * shard locks are taken in variable sets and are checked at run time instead
 * (vmm_assert_shards_held); debug builds also check every lock's owner (spin_held).
 */
#ifndef LIB_THREAD_SAFETY_H
#define LIB_THREAD_SAFETY_H

#if defined(__clang__)
#define MM_TA(x) __attribute__((x))
#else
#define MM_TA(x)
#endif

#define TA_CAPABILITY(name) MM_TA(capability(name))
#define TA_ACQUIRE(...) MM_TA(acquire_capability(__VA_ARGS__))
#define TA_TRY_ACQUIRE(...) MM_TA(try_acquire_capability(__VA_ARGS__))
#define TA_RELEASE(...) MM_TA(release_capability(__VA_ARGS__))
#define TA_REQUIRES(...) MM_TA(requires_capability(__VA_ARGS__))
#define TA_EXCLUDES(...) MM_TA(locks_excluded(__VA_ARGS__))
#define TA_NO_ANALYSIS MM_TA(no_thread_safety_analysis)

#endif /* LIB_THREAD_SAFETY_H */
