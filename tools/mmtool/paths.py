"""Where things live: the repository root, the build folder and what the build produces.

Every path is derived from the location of this file, so tools/mm works from any current
directory. The build folder can be moved with MM_OUT (or `tools/mm --out DIR`), which also
lets the tool's own tests point it at fake binaries.
"""
from __future__ import annotations

import os
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent
ROOT = TOOLS.parent


def read_text_or_empty(path: str) -> str:
    """A system file's text (/proc/cpuinfo, ...), or "" where it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def out_dir() -> Path:
    return Path(os.environ.get("MM_OUT", str(ROOT / "out"))).resolve()


def rel(path: Path) -> str:
    """A path as the user would type it from the repository root, when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def host_tests() -> Path:
    return out_dir() / "host_tests"


def host_asan_tests() -> Path:
    return out_dir() / "host_asan" / "host_tests"


def api_fuzz() -> Path:
    """The libFuzzer target of the public API (tests/fuzz/), built in the host_fuzz toolchain."""
    return out_dir() / "host_fuzz" / "api_fuzz"


def fuzz_seed_corpus() -> Path:
    return ROOT / "tests" / "fuzz" / "corpus"


def fuzz_grown_corpus() -> Path:
    """The inputs long runs found, merged to a minimal set (libFuzzer -merge=1) and packed."""
    return ROOT / "tests" / "fuzz" / "grown-corpus.tar.gz"


def fuzz_regressions() -> Path:
    return ROOT / "tests" / "fuzz" / "regressions"


def fuzz_corpus() -> Path:
    """The corpus the fuzzer grows: the seeds copied into the build folder, so that the
    repository's corpus never changes."""
    return out_dir() / "fuzz-corpus"


def host_bench() -> Path:
    return out_dir() / "host_bench"


def kernel(debug: bool = False) -> Path:
    """The kernel image; debug: the one built with the debug checks (MM_DEBUG)."""
    return out_dir() / ("kernel_debug" if debug else "kernel") / "mmkernel.elf"


def kernel_efi() -> Path:
    """mmkernel.efi: the UEFI application that carries and boots the kernel image."""
    return out_dir() / "efi" / "mmkernel.efi"


def uefi_work_dir(name: str) -> Path:
    """A UEFI boot's files: the firmware's variable store and the disk's folder."""
    return out_dir() / "uefi" / name


def logs_dir() -> Path:
    return out_dir() / "logs"


def netboot_work_dir(name: str) -> Path:
    """TFTP root that QEMU's user-mode network serves for an iPXE boot under QEMU."""
    return out_dir() / "netboot" / name


# The main job's summary beside the result files in results/<commit>/ (summary.py): not a
# benchmark document, so the readers of result folders pass it over.
SUMMARY_FILE = "summary.json"


def results_dir() -> Path:
    """Where `tools/mm bench` stores results/<commit>/. MM_RESULTS moves it: `tools/mm
    compare` benchmarks another commit in a worktree of its own and points this at the main
    checkout's results/."""
    return Path(os.environ.get("MM_RESULTS", str(ROOT / "results"))).resolve()
