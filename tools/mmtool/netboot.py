"""The files a network-booted machine fetches: boot.ipxe and the kernel.

Used by `tools/mm netboot DIR` (for a real TFTP or HTTP server) and by the iPXE boots under
QEMU, so the QEMU test exercises exactly what a bare-metal server gets.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from . import ui

KERNEL_NAME = "mmkernel.elf"
SCRIPT_NAME = "boot.ipxe"


def ipxe_script(cmdline: str, kernel_url: str = KERNEL_NAME) -> str:
    """An iPXE script that loads the kernel with its command line and boots it.

    A relative kernel_url is fetched from where the script came from (TFTP or HTTP); the
    kernel sees its command line as "<kernel URI> <cmdline>" and skips the first word.
    """
    if "\n" in cmdline or "\r" in cmdline:
        raise ui.Fatal("the kernel command line cannot contain a line break")
    if "${" in cmdline:
        # iPXE would expand it as a setting before the kernel sees it.
        raise ui.Fatal("the kernel command line cannot contain '${' (iPXE expands it)")
    line = f"kernel {kernel_url} {cmdline}".rstrip()
    return f"#!ipxe\n{line}\nboot\n"


def write_dir(directory: Path, kernel: Path, cmdline: str,
              base_url: str | None = None) -> list[Path]:
    """Writes boot.ipxe and a copy of the kernel into directory; returns the paths written.

    base_url (e.g. http://10.0.0.1/mm) makes the script fetch the kernel by HTTP from there
    instead of from the same place as the script.
    """
    url = KERNEL_NAME if not base_url else f"{base_url.rstrip('/')}/{KERNEL_NAME}"
    script = ipxe_script(cmdline, url)
    directory.mkdir(parents=True, exist_ok=True)
    kernel_copy = directory / KERNEL_NAME
    # A copy, not a link: DIR is handed to a server, which must not see later rebuilds.
    shutil.copyfile(kernel, kernel_copy)
    script_path = directory / SCRIPT_NAME
    script_path.write_text(script, encoding="utf-8")
    return [script_path, kernel_copy]


def sercon_file(directory: Path) -> Path:
    """The fw_cfg file that sends SeaBIOS and iPXE output to COM1 (I/O port 0x3f8)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sercon-port"
    path.write_bytes(b"\xf8\x03")
    return path
