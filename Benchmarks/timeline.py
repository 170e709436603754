"""Where the time of one link goes: every process it started, from an strace log.

Record a link, then summarize it:
  strace -f -qq -ttt -e trace=execve,exit_group -o /tmp/link.trace \\
      gcc -B "$(ltoc --libexec-dir)/" -O2 -flto=auto -o app *.o
  python3 Benchmarks/timeline.py /tmp/link.trace

Prints, per program (by the basename of what it executed, with ltoc's mode: wrapper
when run as lto-wrapper, driver for a WPA or LTRANS job), how many ran, their summed
wall time, and when the first started and the last ended, relative to the first exec.
The daemon's own work (WPA, LTRANS it runs, cache hits) happens in ltod, which strace
does not follow here; it shows as the time the ltoc drivers wait.
"""
import re
import sys
from collections import defaultdict

EXEC = re.compile(r'^(\d+)\s+([\d.]+)\s+execve\("([^"]+)", \[(.*?)\]')
EXIT = re.compile(r'^(\d+)\s+([\d.]+)\s+(?:exit_group\(|\+\+\+ exited)')


def program(path, argv):
    """A readable name for one exec: the basename, and ltoc's mode."""
    name = path.rsplit("/", 1)[-1]
    first = argv.split(",", 1)[0].strip('" ')
    if name == "ltoc":
        return "ltoc (wrapper)" if first.endswith("lto-wrapper") else "ltoc (driver: WPA or LTRANS)"
    return name


def parse(lines):
    """Per pid: (program, exec time, exit time); a pid that execs twice keeps the last."""
    started, ended = {}, {}
    for line in lines:
        m = EXEC.match(line)
        if m and "= -1" not in line:
            pid, t, path, argv = m.groups()
            started[pid] = (program(path, argv), float(t))
            continue
        m = EXIT.match(line)
        if m:
            ended.setdefault(m.group(1), float(m.group(2)))
    return {pid: (name, t, ended.get(pid, t)) for pid, (name, t) in started.items()}


def main(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        runs = parse(f)
    origin = min(t for _, t, _ in runs.values())
    table = defaultdict(lambda: [0, 0.0, float("inf"), 0.0])
    for name, start, end in runs.values():
        row = table[name]
        row[0] += 1
        row[1] += end - start
        row[2] = min(row[2], start - origin)
        row[3] = max(row[3], end - origin)
    print(f"{'program':32} {'runs':>5} {'wall sum':>10} {'first start':>12} {'last end':>10}")
    for name, (count, total, first, last) in sorted(table.items(), key=lambda kv: kv[1][2]):
        print(f"{name:32} {count:5d} {total:9.3f}s {first:11.3f}s {last:9.3f}s")


if __name__ == "__main__":
    main(sys.argv[1])
