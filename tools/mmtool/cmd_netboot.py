"""`tools/mm netboot DIR`: write boot.ipxe and the kernel (mmkernel.elf for BIOS servers,
mmkernel.efi for UEFI ones) for a server to netboot."""
from __future__ import annotations

from pathlib import Path

from . import build, deps, netboot, paths, ui


def cmd_netboot(args) -> int:
    deps.ensure()
    if not args.no_build:
        build.run()
    kernel = build.require(paths.kernel(), "kernel")
    efi = build.require(paths.kernel_efi(), "UEFI kernel")
    cmdline = " ".join(args.cmdline) if args.cmdline else "tests"
    written = netboot.write_dir(Path(args.dir), kernel, cmdline, args.base_url, efi_kernel=efi)
    for path in written:
        ui.out(str(path))
    ui.info(f"boot.ipxe boots {netboot.KERNEL_NAME} (BIOS) or {netboot.EFI_KERNEL_NAME} (UEFI) "
            f"with [{cmdline}]; docs/netboot.md says how to serve it")
    return 0
