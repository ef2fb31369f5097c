"""Draw the per-benchmark plain/fatopt ratios as an SVG bar chart, with no plotting library.

Reads the summaries the two harnesses write and draws one horizontal bar per benchmark
(right of 1.00: faster under fatopt; left: slower), the micro cases first:

    python benchmarks/plot_ratios.py --micro benchmarks/results/micro-3.13.json \
        --pyperformance benchmarks/results/pyperformance-3.13/summary.json -o docs/benchmarks-3.13.svg

``--micro`` is the file ``benchmarks/micro/run.py --json FILE`` writes; ``--pyperformance`` the
``summary.json`` that ``benchmarks/pyperformance/run.py`` leaves in its work directory.
"""

from __future__ import annotations

import argparse
import json
import math
from html import escape
from pathlib import Path

ROW, LABEL_W, BAR_W, PAD = 18, 210, 420, 12


def rows_from(micro: Path | None, pyperformance: Path | None) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    if micro:
        for r in json.loads(micro.read_text())["results"]:
            rows.append((f"micro: {r['case']}", r["speedup"]))
    if pyperformance:
        for r in json.loads(pyperformance.read_text())["rows"]:
            rows.append((r["benchmark"], r["ratio"]))
    return rows


def svg(rows: list[tuple[str, float]], title: str) -> str:
    # log scale, symmetric around 1.0
    span = max(0.1, max(abs(math.log(r)) for _, r in rows) * 1.1)
    mid = LABEL_W + BAR_W / 2
    scale = (BAR_W / 2) / span
    height = PAD * 3 + ROW * (len(rows) + 2)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + BAR_W + 80}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{PAD}" y="{PAD + 4}" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    top = PAD * 2 + ROW
    for i, (name, ratio) in enumerate(rows):
        y = top + i * ROW
        x = mid + math.log(ratio) * scale
        left, width = min(mid, x), abs(x - mid)
        colour = "#3a7d44" if ratio >= 1 else "#b5403a"
        out.append(f'<text x="{LABEL_W - 6}" y="{y + 12}" text-anchor="end">{escape(name)}</text>')
        out.append(f'<rect x="{left:.1f}" y="{y + 3}" width="{max(width, 0.5):.1f}" height="{ROW - 6}" fill="{colour}"/>')
        out.append(f'<text x="{max(x, mid) + 4:.1f}" y="{y + 12}">{ratio:.2f}x</text>')
    bottom = top + len(rows) * ROW
    out.append(f'<line x1="{mid}" y1="{top}" x2="{mid}" y2="{bottom}" stroke="black"/>')
    for tick in (0.5, 0.8, 1.0, 1.25, 2.0, 4.0):
        if abs(math.log(tick)) <= span:
            x = mid + math.log(tick) * scale
            out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="black"/>')
            out.append(f'<text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle">{tick:g}x</text>')
    out.append(f'<text x="{mid}" y="{bottom + 30}" text-anchor="middle">plain time / fatopt time '
               '(log scale; right of 1: faster under fatopt)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--micro", type=Path, help="JSON written by benchmarks/micro/run.py --json")
    parser.add_argument("--pyperformance", type=Path, help="summary.json of benchmarks/pyperformance/run.py")
    parser.add_argument("--title", default="fatopt: plain / fatopt time per benchmark")
    parser.add_argument("-o", "--output", type=Path, required=True, help="SVG file to write")
    args = parser.parse_args()
    rows = rows_from(args.micro, args.pyperformance)
    if not rows:
        parser.error("nothing to plot: give --micro and/or --pyperformance")
    args.output.write_text(svg(rows, args.title))
    print(f"wrote {args.output} ({len(rows)} bars)")


if __name__ == "__main__":
    main()
