"""Linux side by side: Debian's own kernel booted under exactly the QEMU settings of our
kernel's benchmark run, with bench/linux/mmbench_linux as /init of an initramfs, so that the
same workloads can be compared (side_by_side.py pairs and renders them).

The kernel is fetched without installing it: `apt-get download linux-image-amd64` (the
metapackage), its Depends names the real linux-image-6.*-amd64 package, which is
downloaded too; boot/vmlinuz-* is taken out of it with `dpkg-deb --fsys-tarfile`. Only the
kernel is kept, in <build folder>/linux/ (out/linux/ normally), and it stays pinned there:
later runs reuse it without the network, so that results of different commits are measured
against the same Linux. Delete the folder to move to Debian's newest kernel.

The initramfs is written here, in the cpio "newc" format the kernel unpacks, so that no
cpio tool is needed.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from . import extract, paths, qemu, runner, ui

META_PACKAGE = "linux-image-amd64"
DONE_LINE = "mmbench-linux: done"  # bench/linux/mmbench_linux.c prints it last
BASE_CMDLINE = "console=ttyS0 quiet panic=-1"


class Unavailable(Exception):
    """Debian's kernel could not be had (no network, no package source...): the message
    says why. The rest of `tools/mm bench` goes on without the Linux section."""


def cache_dir() -> Path:
    """Survives between runs: the build folder's linux/ (out/linux/, or $MM_OUT/linux/)."""
    return paths.out_dir() / "linux"


def program() -> Path:
    """The static /init, built by GN from bench/linux/ in the host toolchain."""
    return paths.out_dir() / "mmbench_linux"


# ---- Package names ------------------------------------------------------------------------

# linux-image-6.1.0-56-amd64 (Debian 12), -6.12.38+deb13-amd64 (13), -6.12.12+bpo-amd64
# (backports); not -unsigned, -dbg, the cloud or rt flavours, or the metapackage.
_IMAGE = re.compile(r"\blinux-image-\d+\.\d+(?:\.\d+)*(?:-\d+)?(?:\+[a-z0-9]+)?-amd64"
                    r"(?![\w.+~-])")


def image_package(depends: str) -> tuple[str, str | None]:
    """The real kernel package in a metapackage's dependencies, and its version when the
    text pins one: from a Depends field (`linux-image-6.1.0-56-amd64 (= 6.1.192-2)`) or from
    `apt-cache depends` output (`  Depends: linux-image-6.1.0-56-amd64`).
    Raises Unavailable when there is none."""
    for alternative in re.split(r"[,|\n]", depends):
        m = _IMAGE.search(alternative)
        if not m:  # the metapackage's own name has no version: it never matches
            continue
        version = re.search(r"\(\s*=\s*([^)\s]+)\s*\)", alternative)
        return m.group(0), version.group(1) if version else None
    raise Unavailable(f"no linux-image-*-amd64 package among the dependencies: {depends!r}")


# ---- Fetching -------------------------------------------------------------------------------

@dataclass
class Kernel:
    vmlinuz: Path
    package: str
    version: str

    def describe(self) -> str:
        return f"Debian {self.package} {self.version}"


def _apt_download(spec: str, where: Path) -> Path:
    """Downloads one package into `where` and returns the .deb; Unavailable on failure.
    As root a failed download is retried once after `apt-get update` (stale lists)."""
    def attempt() -> subprocess.CompletedProcess:
        return subprocess.run(["apt-get", "download", spec], cwd=where, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False)
    try:
        proc = attempt()
        if proc.returncode != 0 and os.geteuid() == 0:
            ui.info(f"apt-get download {spec} failed; apt-get update and one more try")
            subprocess.run(["apt-get", "update"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            proc = attempt()
    except FileNotFoundError:
        raise Unavailable("apt-get is not installed: not a Debian system") from None
    name = spec.split("=", 1)[0]
    debs = sorted(where.glob(f"{name}_*.deb"), key=lambda p: p.stat().st_mtime)
    if proc.returncode != 0 or not debs:
        lines = [l for l in proc.stdout.splitlines() if l.startswith(("E:", "Err"))]
        why = lines[-1] if lines else f"exit status {proc.returncode}"
        raise Unavailable(f"`apt-get download {spec}` failed: {why}")
    return debs[-1]


def _deb_field(deb: Path, field: str) -> str:
    proc = subprocess.run(["dpkg-deb", "-f", str(deb), field], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise Unavailable(f"dpkg-deb -f {deb.name} {field}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _extract_boot_files(deb: Path, dest: Path) -> Path:
    """Takes boot/vmlinuz-* (and boot/config-*, for reference) out of the package's data
    archive, streamed: the modules (hundreds of MB unpacked) never reach the disk."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    vmlinuz = None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.lstrip("./")
                if not member.isfile() or not re.fullmatch(r"boot/(vmlinuz|config)-[^/]+", name):
                    continue
                target = dest / Path(name).name
                src = tar.extractfile(member)
                with open(target, "wb") as f:
                    shutil.copyfileobj(src, f)
                if Path(name).name.startswith("vmlinuz-"):
                    vmlinuz = target
    finally:
        proc.stdout.close()
        rc = proc.wait()
    if rc != 0 or vmlinuz is None:
        raise Unavailable(f"no boot/vmlinuz-* in {deb.name} (dpkg-deb exit {rc})")
    return vmlinuz


def fetch_kernel(cache: Path | None = None) -> Kernel:
    """The pinned kernel from the cache, or Debian's current one fetched into it."""
    cache = cache or cache_dir()
    record = cache / "kernel.json"
    if record.exists():
        try:
            info = json.loads(record.read_text(encoding="utf-8"))
            vmlinuz = cache / info["vmlinuz"]
            if vmlinuz.exists():
                return Kernel(vmlinuz, info["package"], info["version"])
        except (ValueError, KeyError, TypeError):
            pass
        ui.warn(f"{paths.rel(record)} is unusable; fetching the kernel again")
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / "download"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    ui.step(f"fetching Debian's kernel into {paths.rel(cache)} (apt-get download "
            f"{META_PACKAGE}, then the package it depends on)")
    try:
        meta = _apt_download(META_PACKAGE, work)
        package, version = image_package(_deb_field(meta, "Depends"))
        deb = _apt_download(f"{package}={version}" if version else package, work)
        version = _deb_field(deb, "Version")
        sha256 = hashlib.sha256(deb.read_bytes()).hexdigest()
        vmlinuz = _extract_boot_files(deb, cache)
        record.write_text(json.dumps({"package": package, "version": version,
                                      "vmlinuz": vmlinuz.name, "deb_sha256": sha256},
                                     indent=2) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)  # 70 MB of .deb: only the kernel is kept
    ui.info(f"Linux kernel: {package} {version} -> {paths.rel(vmlinuz)}")
    return Kernel(vmlinuz, package, version)


# ---- The initramfs: cpio "newc" ---------------------------------------------------------------

S_IFDIR, S_IFREG, S_IFCHR = 0o040000, 0o100000, 0o020000
CPIO_MAGIC = b"070701"
CPIO_TRAILER = "TRAILER!!!"


@dataclass
class CpioEntry:
    name: str
    mode: int              # file type bits and permissions, as st_mode
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)  # (major, minor) of a device node


def _pad4(n: int) -> int:
    return (4 - n % 4) % 4


def cpio_newc(entries: list[CpioEntry]) -> bytes:
    """The archive: per entry a 110-byte header ("070701" and 13 fields of 8 hex digits),
    the NUL-terminated name padded to 4 bytes, the data padded to 4 bytes; then the
    TRAILER!!! entry. Owner root, time 0, inode numbers from 1: the same input always gives
    the same bytes."""
    out = bytearray()
    for ino, e in enumerate(list(entries) + [CpioEntry(CPIO_TRAILER, 0)], start=1):
        name = e.name.encode() + b"\0"
        trailer = e.name == CPIO_TRAILER
        fields = [0 if trailer else ino, e.mode, 0, 0,
                  2 if e.mode & 0o170000 == S_IFDIR else 1,  # nlink
                  0, len(e.data), 0, 0, e.rdev[0], e.rdev[1], len(name), 0]
        header = CPIO_MAGIC + b"".join(b"%08X" % f for f in fields)
        out += header + name + b"\0" * _pad4(len(header) + len(name))
        out += e.data + b"\0" * _pad4(len(e.data))
    return bytes(out)


def parse_cpio_newc(data: bytes) -> list[CpioEntry]:
    """The entries of a newc archive, trailer excluded (for checks and tests)."""
    entries, pos = [], 0
    while True:
        header = data[pos:pos + 110]
        if len(header) < 110 or header[:6] != CPIO_MAGIC:
            raise ValueError(f"no newc header at offset {pos}")
        f = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, size, rmajor, rminor, namesize = f[1], f[6], f[9], f[10], f[11]
        pos += 110
        name = data[pos:pos + namesize - 1].decode()
        pos += namesize + _pad4(110 + namesize)
        if name == CPIO_TRAILER:
            return entries
        entries.append(CpioEntry(name, mode, data[pos:pos + size], (rmajor, rminor)))
        pos += size + _pad4(size)


def initramfs_entries(init: bytes) -> list[CpioEntry]:
    """/init and what it needs: /dev/console (the kernel opens it for init's stdin, stdout
    and stderr), mount points for /proc and /sys."""
    return [
        CpioEntry("dev", S_IFDIR | 0o755),
        CpioEntry("dev/console", S_IFCHR | 0o600, rdev=(5, 1)),
        CpioEntry("proc", S_IFDIR | 0o555),
        CpioEntry("sys", S_IFDIR | 0o555),
        CpioEntry("init", S_IFREG | 0o755, init),
    ]


def write_initramfs(init_program: Path, dest: Path) -> Path:
    data = cpio_newc(initramfs_entries(init_program.read_bytes()))
    if not dest.exists() or dest.read_bytes() != data:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    return dest


# ---- Booting -----------------------------------------------------------------------------------

def kernel_cmdline(filter_text: str | None) -> str:
    """Linux hands a name=value word it does not know to init as an environment variable:
    mmbench=FILTER reaches the program as $mmbench (it matches like our bench=FILTER)."""
    return BASE_CMDLINE + (f" mmbench={filter_text}" if filter_text else "")


def judge(status: int, lines: list[str]) -> tuple[bool, str]:
    """The program leaves through isa-debug-exit (33 pass, 35 a case failed) or, without
    that device, by powering off (status 0 after its last line). A 0 without that line is
    a panic: panic=-1 reboots at once and -no-reboot turns the reboot into an exit."""
    if status == 0:
        if any(DONE_LINE in l for l in lines):
            return True, "pass (powered off after the last case)"
        return False, "fail: Linux rebooted before the program finished (a panic? see the log)"
    ok, text = qemu.interpret_status(status)
    return ok, text.replace("the kernel reported failure", "a Linux case failed")


def boot(machine: qemu.Machine, kernel: Kernel, initrd: Path, cmdline: str, log: Path,
         timeout: float, echo: bool) -> tuple[runner.Result, bool, str]:
    argv = qemu.build_argv(machine, kernel=kernel.vmlinuz, cmdline=cmdline)
    argv += ["-initrd", str(initrd)]
    ui.detail(f"boot Linux ({kernel.describe()}) [{cmdline}] ({machine.describe()}), "
              f"log {paths.rel(log)}")
    ui.detail(" ".join(shlex.quote(a) for a in argv))
    result = qemu.run(argv, log, timeout, echo=echo)
    ok, text = judge(result.status, result.lines)
    if not ok and not result.timed_out and qemu.stderr_hint(result):
        text += f" ({qemu.stderr_hint(result)})"
    ui.detail(f"Linux: {text} after {result.seconds:.1f} s")
    if not ok:
        ui.warn(f"Linux: {text}; the end of {paths.rel(log)}:\n{ui.tail(log, 12)}")
    return result, ok, text


@dataclass
class Outcome:
    ok: bool                # the run worked (False also when Linux was unavailable)
    doc: dict | None        # the benchmark document
    desc: str               # how it ran, or why it did not
    unavailable: bool = False


def run(machine: qemu.Machine, stem: str, filter_text: str | None, outdir: Path,
        run_info: dict, timeout: float, echo: bool) -> Outcome:
    """Fetches, builds the initramfs, boots; stores <stem>.json and <stem>.log in outdir."""
    try:
        kernel = fetch_kernel()
    except Unavailable as e:
        ui.warn(f"Linux side by side skipped: {e}")
        return Outcome(False, None, f"not run: Debian's kernel is unavailable ({e})",
                       unavailable=True)
    init = program()
    if not init.exists():
        raise ui.Fatal(f"{paths.rel(init)} is missing: run tools/mm build")
    initrd = write_initramfs(init, cache_dir() / "initramfs.cpio")
    cmdline = kernel_cmdline(filter_text)
    log = paths.logs_dir() / f"bench-{stem}.log"
    result, ok, status_text = boot(machine, kernel, initrd, cmdline, log, timeout, echo)
    shutil.copyfile(log, outdir / f"{stem}.log")
    desc = f"{kernel.describe()}, {qemu.version()}, {machine.describe()}"
    try:
        doc = extract.parse_bench_json(result.lines)
    except extract.ExtractError as e:
        ui.warn(f"Linux benchmarks: {e}")
        return Outcome(False, None, desc)
    if doc is None:
        ui.warn(f"Linux benchmarks: no {extract.BEGIN} in {paths.rel(log)} ({status_text})")
        return Outcome(False, None, desc)
    doc.setdefault("context", {})["mm_run"] = dict(
        run_info, kernel=f"{kernel.package} {kernel.version}", cmdline=cmdline,
        initramfs=paths.rel(initrd), exit=status_text)
    (outdir / f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if not ok:
        ui.warn(f"Linux benchmarks: {status_text}")
    return Outcome(ok, doc, desc)
