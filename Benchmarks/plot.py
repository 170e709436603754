"""Plot relink time per cycle, plain gcc against ltod, from ltod-bench's summary.json.

Usage: python3 Benchmarks/plot.py DIR/summary.json DIR/relink.png
One panel per workload; x is the cycle (cold link, no-op relinks, then each edit kind's
cycles in order), y the wall time of the link in seconds.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)

SERIES = [
    ("plain", "plain gcc (default partitioning)", "tab:red"),
    ("plain1to1", "plain gcc -flto-partition=1to1", "tab:orange"),
    ("ltod", "ltod", "tab:blue"),
    ("ltod_bytes", "ltod, bytes key", "tab:cyan"),
]


def panel(axis, name, cycles):
    """Draws one workload's cycles; edit kinds are separated by dotted lines."""
    xs = range(len(cycles))
    for key, label, colour in SERIES:
        ys = [c.get(key) for c in cycles]
        if any(y is not None for y in ys):
            axis.plot(xs, ys, marker="o", markersize=3, label=label, color=colour)
    previous = None
    for x, c in enumerate(cycles):
        if c["kind"] != previous:
            axis.axvline(x - 0.5, color="grey", linestyle=":", linewidth=0.8)
            axis.annotate(c["kind"], (x - 0.4, 1.0), xycoords=("data", "axes fraction"),
                          va="top", fontsize=7, rotation=90)
            previous = c["kind"]
    axis.set_title(name)
    axis.set_ylabel("link time (s)")
    axis.set_ylim(bottom=0)


def main(summary_path, png_path):
    with open(summary_path, encoding="utf-8") as f:
        summary = json.load(f)
    names = [w["name"] for w in summary["workloads"]]
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 3.2 * len(names)), squeeze=False)
    for axis, name in zip(axes[:, 0], names):
        panel(axis, name, [c for c in summary["cycles"] if c["workload"] == name])
    axes[-1, 0].set_xlabel("cycle")
    legend = {}
    for axis in axes[:, 0]:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.legend(list(legend.values()), list(legend.keys()), loc="lower center", ncol=len(legend), fontsize=8)
    fig.suptitle(f"Relink time per cycle, plain gcc vs ltod ({summary['flags']})")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(png_path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
