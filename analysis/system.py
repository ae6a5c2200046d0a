"""system.py — `memstrat system [--json]`: what on this machine can move a benchmark's numbers.

Contract: facts() reads, without changing anything and without root, what pyperf's `system
show` looks at and what memory benchmarks add: CPUs (online, usable by this process, isolated),
frequency scaling (governor, turbo), transparent huge pages (enabled, defrag), ASLR, load average
and how busy the CPUs are right now, the kernel's memory-management threads (kswapd, kcompactd,
khugepaged: their CPU time), whether the machine is a virtual one, swap. Each fact is (name,
value, advice): advice is "" when the setting is the quiet one, else one phrase saying why it adds
noise. `bench` records facts() in meta.json and warns before it starts when the machine is busy
(busy()); `memstrat system` prints the table (or JSON). A fact the machine does not expose reads
"unknown", never an error.
"""
import glob, json, os, re, sys, time  # noqa: E401

from . import core

# CPU busy share (of all CPUs, over BUSY_WINDOW_S) above which a run is warned about: on 2 CPUs
# a build beside the benchmark shows as ~50%; an idle VM stays under 5%.
BUSY_WARN = 0.20
BUSY_WINDOW_S = 0.5
# A 1-minute load average per CPU above which the machine is loaded.
LOAD_WARN_PER_CPU = 0.5

def _first(path, default="unknown"):
    """The stripped first line of a /proc or /sys file, or default."""
    text = core.read_text(path)
    return text.splitlines()[0].strip() if text.strip() else default

def _bracketed(path):
    """The selected word of a /sys choice file ("always [madvise] never" -> "madvise")."""
    m = re.search(r"\[(\w+)\]", core.read_text(path))
    return m.group(1) if m else "unknown"

def cpu_busy(window=BUSY_WINDOW_S):
    """Share of all CPUs' time spent not idle over `window` seconds (/proc/stat), or None."""
    def sample():
        f = core.read_text("/proc/stat").split("\n", 1)[0].split()[1:]
        v = [int(x) for x in f if x.isdigit()]
        return (sum(v), v[3] + (v[4] if len(v) > 4 else 0)) if len(v) >= 4 else None
    a = sample()
    time.sleep(window)
    b = sample()
    return None if not a or not b or b[0] == a[0] else 1.0 - (b[1] - a[1]) / (b[0] - a[0])

def kernel_threads():
    """{name: CPU seconds} of the kernel's memory-management threads (their work competes with
    the benchmark and shows up as pauses it did not make)."""
    out, tick = {}, os.sysconf("SC_CLK_TCK")
    for stat in glob.glob("/proc/[0-9]*/stat"):
        text = core.read_text(stat)
        m = re.match(r"\d+ \((kswapd\d*|kcompactd\d*|khugepaged)\) \S (.*)", text)
        if m:
            f = m.group(2).split()
            out[m.group(1)] = round((int(f[10]) + int(f[11])) / tick, 2)  # utime + stime
    return out

def facts(busy_share=None):
    """[(name, value, advice)] of this machine (see the contract)."""
    online, usable = os.sysconf("SC_NPROCESSORS_ONLN"), len(os.sched_getaffinity(0))
    gov = sorted({_first(p) for p in glob.glob("/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor")})
    no_turbo = _first("/sys/devices/system/cpu/intel_pstate/no_turbo", "")
    thp, defrag = (_bracketed(f"/sys/kernel/mm/transparent_hugepage/{k}") for k in ("enabled", "defrag"))
    aslr, load = _first("/proc/sys/kernel/randomize_va_space"), os.getloadavg()[0]
    cmdline = core.read_text("/proc/cmdline")
    isolated = re.search(r"isolcpus=(\S+)", cmdline)
    flags = re.search(r"^flags\s*:(.*)$", core.read_text("/proc/cpuinfo"), re.M)
    vendor = " ".join(_first(f"/sys/class/dmi/id/{k}", "") for k in ("sys_vendor", "product_name")).strip()
    vm = "yes" if flags and " hypervisor" in flags.group(1) else "no" if flags else "unknown"
    swap = re.search(r"^SwapTotal:\s*(\d+)", core.read_text("/proc/meminfo"), re.M)
    busy_share = cpu_busy() if busy_share is None else busy_share
    return [
        ("cpus", f"{online} online, {usable} usable by this process", "few CPUs: the sampler thread, the kernel "
         "and neighbours share them with the cell" if online <= 2 else ""),
        ("isolated cpus", isolated.group(1) if isolated else "none", ""),
        ("frequency governor", ", ".join(gov) or "unknown (no cpufreq: a VM, or fixed)",
         "" if not gov or gov == ["performance"] else "a scaling governor changes the clock under the run"),
        ("turbo", {"0": "on", "1": "off"}.get(no_turbo, "unknown"), "turbo varies with temperature and load"
         if no_turbo == "0" else ""),
        ("transparent huge pages", f"{thp} (defrag {defrag})", "'always' lets khugepaged and compaction move "
         "a cell's memory while it runs" if thp == "always" else ""),
        ("ASLR", {"0": "off", "1": "partial", "2": "full"}.get(aslr, aslr), "addresses differ per run: cache "
         "and page colouring vary between repetitions" if aslr != "0" else ""),
        ("load average (1 min)", f"{load:.2f}", "loaded: other work competes for the CPUs"
         if load > LOAD_WARN_PER_CPU * online else ""),
        ("CPU busy now", "unknown" if busy_share is None else f"{busy_share * 100:.0f}% over {BUSY_WINDOW_S:g} s",
         "busy: something else runs now" if busy_share is not None and busy_share > BUSY_WARN else ""),
        ("kernel memory threads (CPU s)", " ".join(f"{k}={v}" for k, v in sorted(kernel_threads().items()))
         or "none seen", ""),
        ("virtual machine", f"{vm}{' (' + vendor + ')' if vendor else ''}", "a VM shares its host: steal time "
         "and neighbours move timings" if vm == "yes" else ""),
        ("swap", "unknown" if not swap else f"{int(swap.group(1)) // 1024} MB", "")]

def busy(fs):
    """The facts that say the machine is busy right now (bench warns before it starts)."""
    return [f"{n} {v}" for n, v, why in fs if why and n in ("load average (1 min)", "CPU busy now")]

def main(argv):
    p = core.ArgParser("system", description="What on this machine can move a benchmark's numbers.")
    p.add_argument("--json", action="store_true", help="print the facts as JSON")
    o = p.parse_args(argv)
    fs = facts()
    if o.json:
        json.dump({n: {"value": v, "advice": why} for n, v, why in fs}, sys.stdout, indent=1)
        print()
        return core.EXIT_OK
    for n, v, why in fs:
        print(f"{n:<30} {v}" + (f"\n{'':<30} -> {why}" if why else ""))
    noisy = sum(1 for *_, why in fs if why)
    print(f"\n{noisy} setting(s) that can add noise" if noisy else "\nnothing here adds noise")
    return core.EXIT_OK
