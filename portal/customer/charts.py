"""The geometry of the company portal's small charts, drawn by the templates as inline SVG.

No JavaScript and no chart library: a chart is a handful of rectangles or a polyline whose
coordinates are computed here, in a viewBox the SVG scales to its box. Each chart in a
template is an `<svg role="img">` with a <title> and a <desc>, and a table beside it carries
the same figures for screen readers and for reading exact values.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """One coloured part of a stacked bar: its kind, value and rectangle."""

    kind: str
    value: int
    x: float
    y: float
    width: float
    height: float


def stacked_bars(
    stacks: Sequence[Sequence[tuple[str, int]]],
    *,
    width: float,
    height: float,
    top: int,
    gap: float = 2,
) -> list[Segment]:
    """One stacked bar per entry of `stacks` (each a sequence of (kind, value), drawn from the
    bottom up), side by side across `width`, scaled so that `top` fills `height`.

    Zero values draw nothing; `top` below 1 is taken as 1, so an empty chart is flat.
    """
    if not stacks:
        return []
    top = max(top, 1)
    slot = width / len(stacks)
    bar_width = max(slot - gap, 1)
    segments = []
    for n, stack in enumerate(stacks):
        x, base = n * slot + gap / 2, height
        for kind, value in stack:
            if value <= 0:
                continue
            size = height * min(value, top) / top
            base -= size
            segments.append(
                Segment(
                    kind, value, round(x, 2), round(base, 2), round(bar_width, 2), round(size, 2)
                )
            )
    return segments


def bar_paths(segments: Sequence[Segment]) -> dict[str, str]:
    """The segments as SVG path data, one path per kind (`M x y h w v h h -w z` a rectangle):
    a third of the bytes of a <rect> each, and one attribute for the template to write instead
    of four numbers a segment."""
    paths: dict[str, list[str]] = {}
    for s in segments:
        paths.setdefault(s.kind, []).append(f"M{s.x} {s.y}h{s.width}v{s.height}h-{s.width}z")
    return {kind: "".join(parts) for kind, parts in paths.items()}


@dataclass(frozen=True)
class Point:
    """A point of a line chart: its value and position."""

    value: int
    x: float
    y: float


def line(
    values: Sequence[int | None], *, width: float, height: float, maximum: int, pad: float = 3
) -> tuple[list[str], list[Point]]:
    """A line through `values` (None leaves a gap), spread evenly across `width`, 0 at the
    bottom and `maximum` at the top, `pad` inside every edge.

    Returns the polylines' `points` attributes (one per unbroken run) and the points.
    """
    count = len(values)
    step = (width - 2 * pad) / (count - 1) if count > 1 else 0
    runs: list[list[Point]] = [[]]
    for n, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        share = min(max(value, 0), maximum) / maximum
        x = pad + n * step if count > 1 else width / 2
        runs[-1].append(Point(value, round(x, 2), round(pad + (height - 2 * pad) * (1 - share), 2)))
    points = [point for run in runs for point in run]
    polylines = [" ".join(f"{p.x},{p.y}" for p in run) for run in runs if len(run) > 1]
    return polylines, points
