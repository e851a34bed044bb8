"""The reports' charts, drawn by matplotlib as SVG and handed to the PDF as ``data:`` URIs.

The PDF's URL fetcher loads nothing but static files and ``data:`` URLs, so a chart travels inside the
document. Output is deterministic (the same figures give the same bytes): no creation date in the SVG's
metadata, a fixed ``svg.hashsalt`` for the ids of clip paths, and text drawn as paths
(``svg.fonttype = "path"``) from DejaVu Sans, which matplotlib ships: the SVG needs no font of the machine
rendering it and shows Cyrillic and Kazakh letters.

Every function takes plain labels and numbers (amounts as Decimal or int in major units) and returns a
``data:image/svg+xml;base64,...`` string, or None when there is nothing to draw (the document then says
so instead of showing an empty frame).
"""

import base64
import io
import textwrap
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # no GUI, ever; before pyplot is imported anywhere

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

#: The fund's colours (as in pdf.css).
GREEN = "#1f5f4a"
LIGHT = "#8fb9a8"
RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "fundapp-report",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.edgecolor": "#999999",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
WIDTH_IN = 6.3  # fits the A4 text width (174 mm) of pdf.css


def _svg_uri(figure):
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(height):
    with matplotlib.rc_context(RC):
        return Figure(figsize=(WIDTH_IN, height))


def _short_number(value, _position=None):
    """Axis ticks: 1.5M, 250K, 12 (amounts run into the hundreds of millions of tenge)."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def horizontal_bars(labels, values, *, unit="", wrap=38, whole_numbers=False):
    """A bar per label, longest at the top: funds by theme, GBF targets by projects or amount."""
    pairs = [(label, float(Decimal(value))) for label, value in zip(labels, values, strict=True)]
    pairs = [pair for pair in pairs if pair[1] > 0]
    if not pairs:
        return None
    pairs.sort(key=lambda pair: -pair[1])
    with matplotlib.rc_context(RC):
        names = ["\n".join(textwrap.wrap(str(label), wrap)) or "–" for label, _ in reversed(pairs)]
        lines = sum(name.count("\n") + 1 for name in names)
        figure = _figure(0.5 + 0.18 * lines + 0.12 * len(names))
        axes = figure.add_subplot()
        numbers = [number for _, number in reversed(pairs)]
        axes.barh(range(len(numbers)), numbers, color=GREEN, height=0.55)
        axes.margins(y=0.5 / len(numbers))
        axes.set_yticks(range(len(numbers)), names)
        axes.xaxis.set_major_formatter(FuncFormatter(_short_number))
        axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=whole_numbers))
        if unit:
            axes.set_xlabel(unit)
        axes.grid(axis="x", color="#dddddd", linewidth=0.5)
        axes.set_axisbelow(True)
        return _svg_uri(figure)


def cumulative_line(points, *, unit=""):
    """Releases over time: ``points`` are ``(label, amount in the period)`` in order (quarters); bars per
    period and the running total as a line on a second axis."""
    if not points or not any(Decimal(amount) for _, amount in points):
        return None
    labels = [str(label) for label, _ in points]
    exact = [Decimal(amount) for _, amount in points]
    running, total = [], Decimal(0)
    for amount in exact:
        total += amount
        running.append(total)
    # The sums are exact; only the drawing gets floats, which is all matplotlib takes.
    amounts, running = [float(a) for a in exact], [float(r) for r in running]
    with matplotlib.rc_context(RC):
        figure = _figure(2.6)
        axes = figure.add_subplot()
        axes.bar(range(len(amounts)), amounts, color=LIGHT, width=0.6, label="per quarter")
        axes.plot(range(len(running)), running, color=GREEN, marker="o", markersize=3, linewidth=1.5)
        step = max(1, len(labels) // 12)
        axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=0)
        axes.yaxis.set_major_formatter(FuncFormatter(_short_number))
        axes.yaxis.set_major_locator(MaxNLocator(nbins=6))
        if unit:
            axes.set_ylabel(unit)
        axes.grid(axis="y", color="#dddddd", linewidth=0.5)
        axes.set_axisbelow(True)
        return _svg_uri(figure)
