"""Tests of the LAVA job definitions: the YAML, the jobs for servers and for QEMU, and the
monitors' patterns against the kernel's own lines."""
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import extract, lava, qemu, ui  # noqa: E402
from mmtool.accel import Accel  # noqa: E402

# A benchmark line as bench/kernel prints it inside the JSON block.
BENCH_LINE = ('  {"name": "BM_user_fault/demand_zero_write:1000", "run_name": '
              '"BM_user_fault/demand_zero_write:1000", "run_type": "iteration", "repetitions": 1, '
              '"repetition_index": 0, "threads": 1, "iterations": 1000, "real_time": 5254.000, '
              '"cpu_time": 5254.000, "time_unit": "ns", "p50_ns": 5254.000, "p99_ns": 5820.000},')


def search(pattern, text):
    # pexpect compiles a monitor's string patterns with re.DOTALL.
    return re.search(pattern, text, re.DOTALL)


class Yaml(unittest.TestCase):
    def test_scalars(self):
        self.assertEqual(lava.to_yaml({"a": "plain", "b": True, "c": 3, "d": None}),
                         "a: plain\nb: true\nc: 3\nd:\n")
        # What YAML would read as something else, or that has special characters, is quoted.
        self.assertEqual(lava.to_yaml({"a": "yes", "b": "1.5", "c": "x: y", "d": "it's"}),
                         "a: 'yes'\nb: '1.5'\nc: 'x: y'\nd: 'it''s'\n")
        self.assertEqual(lava.to_yaml({"a": "\\d+ passed"}), "a: '\\d+ passed'\n")
        self.assertEqual(lava.to_yaml({"a": "tab\there"}), 'a: "tab\\there"\n')

    def test_nesting(self):
        doc = {"actions": [{"deploy": {"to": "tftp", "kernel": {"url": "u"}}},
                           {"boot": {"commands": ["dhcp", "boot"]}}],
               "empty": {}, "none": []}
        self.assertEqual(lava.to_yaml(doc, "one\ntwo"),
                         "# one\n# two\nactions:\n  - deploy:\n      to: tftp\n      kernel:\n"
                         "        url: u\n  - boot:\n      commands:\n        - dhcp\n"
                         "        - boot\nempty: {}\nnone: []\n")


class Jobs(unittest.TestCase):
    def job(self, **kw):
        base = dict(kind="tests", boot="bios", commit="abc1234",
                    kernel_url="http://files/mm/abc1234/mmkernel.elf")
        base.update(kw)
        return lava.Job(**base)

    def test_server_job(self):
        doc = lava.server_job(self.job(tags=["rack-2"], cmdline="tests=vmm cpus=4"))
        self.assertEqual(doc["device_type"], "x86")
        self.assertEqual(doc["tags"], ["rack-2"])
        self.assertEqual(doc["metadata"]["mm.commit"], "abc1234")
        deploy, boot, test = (a for action in doc["actions"] for a in action.values())
        self.assertEqual(deploy["to"], "tftp")
        self.assertEqual(deploy["kernel"]["url"], "http://files/mm/abc1234/mmkernel.elf")
        self.assertEqual(boot["method"], "ipxe")
        self.assertEqual(boot["commands"],
                         ["dhcp", "kernel tftp://{SERVER_IP}/{KERNEL} tests=vmm cpus=4", "boot"])
        self.assertEqual(test["monitors"][0]["name"], lava.TESTS_SUITE)

    def test_bench_job_and_default_command_lines(self):
        doc = lava.server_job(self.job(kind="bench", boot="uefi", device_type="x86-uefi"))
        self.assertEqual(doc["device_type"], "x86-uefi")
        self.assertNotIn("tags", doc)
        self.assertEqual(doc["actions"][1]["boot"]["commands"][1],
                         "kernel tftp://{SERVER_IP}/{KERNEL} bench")
        self.assertEqual(doc["actions"][2]["test"]["monitors"][0]["name"], lava.BENCH_SUITE)
        self.assertEqual(doc["job_name"], "mm bench abc1234 uefi")

    def test_refuses_what_ipxe_would_change(self):
        for bad in ("tests\nboot", "x=${net0/ip}"):
            with self.assertRaises(ui.Fatal):
                lava.server_job(self.job(cmdline=bad))

    def test_qemu_job_and_device(self):
        doc = lava.qemu_job(self.job(kernel_url="file:///k/mmkernel.elf", cmdline="tests=avl"))
        self.assertEqual(doc["device_type"], "qemu")
        self.assertEqual(doc["context"], {"arch": "x86_64"})
        kernel = doc["actions"][0]["deploy"]["images"]["kernel"]
        self.assertEqual(kernel["image_arg"], '-kernel {kernel} -append "tests=avl"')
        machine = qemu.Machine(Accel("tcg", "test"), smp=1, mem_mib=1024, icount=True)
        device = lava.qemu_device(machine)
        params = device["actions"]["boot"]["methods"]["qemu"]["parameters"]
        self.assertEqual(params["command"], qemu.QEMU)
        self.assertNotIn("-kernel", params["options"])
        self.assertIn("isa-debug-exit,iobase=0xf4,iosize=0x04", params["options"])
        self.assertIn(qemu.ICOUNT, params["options"])
        # lava-run stops without these, and no document says so.
        self.assertIn("failure_retry", device["constants"])
        self.assertIn("boot_retry", device["constants"])

    def test_x86_device(self):
        device = lava.x86_device("telnet ser2net 7001", "pdu cycle", "pdu off", "pdu on",
                                 "00:11:22:33:44:55")
        self.assertEqual(device["commands"]["connect"], "telnet ser2net 7001")
        ipxe = device["actions"]["boot"]["methods"]["ipxe"]["parameters"]
        self.assertEqual(ipxe["bootloader_prompt"], "iPXE>")
        self.assertEqual(ipxe["lava_mac"], "00:11:22:33:44:55")
        self.assertIn("interrupt-prompt", device["constants"]["ipxe"])


class Monitors(unittest.TestCase):
    def test_tests_pattern(self):
        m = lava.TESTS_MONITOR
        ok = search(m["pattern"], "[  OK  ] vmm.map_and_unmap\r\n")
        self.assertEqual((ok["result"], ok["test_case_id"]), ("OK", "vmm.map_and_unmap"))
        fail = search(m["pattern"], "[ FAIL ] avl.single_node\n")
        self.assertEqual(m["fixupdict"][fail["result"]], "fail")
        self.assertIsNone(search(m["pattern"], "[ RUN  ] avl.single_node\n"))
        self.assertTrue(search(m["start"], "[ RUN  ] avl.empty_tree"))
        self.assertTrue(search(m["end"], "229 passed, 0 failed"))

    def test_bench_pattern(self):
        m = lava.BENCH_MONITOR
        hit = search(m["pattern"], BENCH_LINE + "\n")
        self.assertEqual(hit["test_case_id"], "BM_user_fault/demand_zero_write:1000")
        self.assertEqual(float(hit["measurement"]), 5254.0)
        self.assertEqual(hit["units"], "ns")
        # One match per line: the pattern never reaches into the next benchmark's line.
        two = BENCH_LINE + "\n" + BENCH_LINE.replace("demand_zero_write", "other") + "\n"
        names = [h["test_case_id"] for h in re.finditer(m["pattern"], two, re.DOTALL)]
        self.assertEqual(len(names), 2)
        self.assertTrue(search(m["start"], extract.BEGIN))
        self.assertTrue(search(m["end"], extract.END))


if __name__ == "__main__":
    unittest.main()
