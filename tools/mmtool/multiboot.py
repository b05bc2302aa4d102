"""A quick look at the kernel file before booting it: is there a Multiboot 1 header that
QEMU's -kernel and iPXE will accept?

Both loaders refuse a 64-bit ELF through Multiboot 1 unless the header sets the a.out-kludge
flag (bit 16) with explicit load addresses. Catching that here gives a clear message instead
of QEMU's "Cannot load x86-64 image" or iPXE's "Invalid argument" on a headless console.
"""
from __future__ import annotations

import struct
from pathlib import Path

MAGIC = 0x1BADB002
AOUT_KLUDGE = 1 << 16
SEARCH_BYTES = 8192  # the specification: the header lies in the first 8 KiB, 4-byte aligned


def problems(data: bytes) -> list[str]:
    """What would stop a Multiboot 1 loader from taking this image (empty when fine)."""
    head = data[:SEARCH_BYTES]
    for off in range(0, len(head) - 11, 4):
        magic, flags, checksum = struct.unpack_from("<III", head, off)
        if magic == MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            is_elf64 = data[:4] == b"\x7fELF" and len(data) > 4 and data[4] == 2
            if is_elf64 and not flags & AOUT_KLUDGE:
                return ["a 64-bit ELF whose Multiboot header lacks the a.out-kludge flag "
                        "(bit 16): QEMU -kernel and iPXE refuse it"]
            return []
    return ["no Multiboot 1 header (magic 0x1BADB002 with a valid checksum) in the first "
            "8 KiB"]


def check_file(path: Path) -> list[str]:
    with open(path, "rb") as f:
        return problems(f.read(SEARCH_BYTES))
