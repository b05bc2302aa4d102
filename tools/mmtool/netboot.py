"""The files a network-booted machine fetches: boot.ipxe and the kernel, mmkernel.elf for BIOS
clients and mmkernel.efi for UEFI ones (iPXE's EFI build loads EFI images only).

Used by `tools/mm netboot DIR` (for a real TFTP or HTTP server) and by the iPXE boots under
QEMU, so the QEMU test exercises exactly what a bare-metal server gets.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from . import ui

KERNEL_NAME = "mmkernel.elf"
EFI_KERNEL_NAME = "mmkernel.efi"
SCRIPT_NAME = "boot.ipxe"


def ipxe_script(cmdline: str, kernel_url: str = KERNEL_NAME, efi_url: str | None = None) -> str:
    """An iPXE script that loads the kernel with its command line and boots it.

    A relative kernel_url is fetched from where the script came from (TFTP or HTTP); the
    kernel sees its command line as "<kernel URI> <cmdline>" and skips the first word. With
    efi_url, iPXE's EFI build (${platform} "efi") boots that image instead, so one script
    serves BIOS and UEFI clients.
    """
    if "\n" in cmdline or "\r" in cmdline:
        raise ui.Fatal("the kernel command line cannot contain a line break")
    if "${" in cmdline:
        # iPXE would expand it as a setting before the kernel sees it.
        raise ui.Fatal("the kernel command line cannot contain '${' (iPXE expands it)")
    line = f"kernel {kernel_url} {cmdline}".rstrip()
    if efi_url is None:
        return f"#!ipxe\n{line}\nboot\n"
    efi_line = f"kernel {efi_url} {cmdline}".rstrip()
    return (f"#!ipxe\niseq ${{platform}} efi && goto uefi ||\n{line}\nboot\n"
            f":uefi\n{efi_line}\nboot\n")


def write_dir(directory: Path, kernel: Path, cmdline: str,
              base_url: str | None = None, efi_kernel: Path | None = None) -> list[Path]:
    """Writes boot.ipxe and a copy of the kernel (and of efi_kernel, mmkernel.efi, when
    given) into directory; returns the paths written.

    base_url (e.g. http://10.0.0.1/mm) makes the script fetch the kernel by HTTP from there
    instead of from the same place as the script.
    """
    def url(name: str) -> str:
        return name if not base_url else f"{base_url.rstrip('/')}/{name}"

    script = ipxe_script(cmdline, url(KERNEL_NAME),
                         url(EFI_KERNEL_NAME) if efi_kernel is not None else None)
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / SCRIPT_NAME]
    # Copies, not links: DIR is handed to a server, which must not see later rebuilds.
    for source, name in ((kernel, KERNEL_NAME), (efi_kernel, EFI_KERNEL_NAME)):
        if source is not None:
            shutil.copyfile(source, directory / name)
            written.append(directory / name)
    written[0].write_text(script, encoding="utf-8")
    return written


def sercon_file(directory: Path) -> Path:
    """The fw_cfg file that sends SeaBIOS and iPXE output to COM1 (I/O port 0x3f8)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sercon-port"
    path.write_bytes(b"\xf8\x03")
    return path
