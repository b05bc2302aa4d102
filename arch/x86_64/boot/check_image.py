#!/usr/bin/env python3
"""Checks that a Multiboot loader using the a.out kludge loads the kernel ELF correctly.

Such a loader ignores the ELF headers: it copies load_end_addr - load_addr bytes from the
file offset of the Multiboot header minus (header_addr - load_addr) to load_addr, zeroes up
to bss_end_addr and jumps to entry_addr. This holds only if every loadable segment lies in
the file exactly as in memory. Usage: check_image.py KERNEL.elf STAMP
"""
import struct
import sys

MB_MAGIC = 0x1BADB002
MB_AOUT_KLUDGE = 1 << 16
PT_LOAD = 1


def check(data):
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return ["not an ELF64 file"]
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segments = []
    for i in range(phnum):
        p_type, _, p_offset, _, p_paddr, p_filesz, p_memsz = struct.unpack_from(
            "<IIQQQQQ", data, phoff + i * phentsize)
        if p_type == PT_LOAD:
            segments.append((p_offset, p_paddr, p_filesz, p_memsz))

    for off in range(0, min(len(data), 8192) - 31, 4):
        magic, flags, checksum = struct.unpack_from("<III", data, off)
        if magic == MB_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            break
    else:
        return ["no Multiboot header in the first 8 KiB"]
    if not flags & MB_AOUT_KLUDGE:
        return ["the Multiboot header lacks the a.out kludge"]
    header_addr, load_addr, load_end, bss_end, entry = struct.unpack_from("<5I", data, off + 12)

    errors = []
    load_off = off - (header_addr - load_addr)
    if load_off < 0 or load_off + (load_end - load_addr) > len(data):
        errors.append("the loaded range lies outside the file")
    for p_offset, p_paddr, p_filesz, p_memsz in segments:
        if p_paddr < load_addr or p_paddr + p_memsz > bss_end:
            errors.append(f"segment at {p_paddr:#x} outside [load_addr, bss_end_addr)")
        if p_filesz == 0:
            continue
        if p_paddr + p_filesz > load_end:
            errors.append(f"segment at {p_paddr:#x} has file bytes past load_end_addr")
        if load_off + (p_paddr - load_addr) != p_offset:
            errors.append(f"segment at {p_paddr:#x}: file offset {p_offset:#x}, the loader "
                          f"reads {load_off + p_paddr - load_addr:#x}")
    if not any(p_paddr <= entry < p_paddr + p_filesz for _, p_paddr, p_filesz, _ in segments):
        errors.append(f"entry_addr {entry:#x} is in no loaded segment")
    return errors


def main():
    kernel, stamp = sys.argv[1], sys.argv[2]
    with open(kernel, "rb") as f:
        errors = check(f.read())
    for e in errors:
        print(f"{kernel}: {e}", file=sys.stderr)
    if errors:
        return 1
    with open(stamp, "w") as f:
        f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
