"""The opinion map of a statements item (issue 20): participants placed by the Polis
projection, shaped and coloured by group, and each group's agreement per statement.

Geometry is given as SVG attributes (the CSP blocks style attributes); colours come from
classes in ``dashboard/static/item.css``. Groups differ in shape as well as colour, and the
tables beside the map hold the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.results import Conversation

MAP_WIDTH = 600
MAP_HEIGHT = 400
PAD = 20
#: At most this many people drawn (evenly spaced through the list); the tables count everyone.
MAX_POINTS = 3000
SHAPES = ("circle", "square", "triangle", "diamond", "cross")
SHAPE_NAMES = {
    "circle": "circles",
    "square": "squares",
    "triangle": "triangles",
    "diamond": "diamonds",
    "cross": "crosses",
}
R = 5.0


@dataclass(frozen=True, slots=True)
class MapPoint:
    x: float
    y: float
    group: int | None
    shape: str
    #: Polygon points for every shape but the circle.
    points: str


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    size: int
    shape: str
    representative: list[str]
    agree: list[float]  # per statement, in the order of ``OpinionMap.statements``


@dataclass(frozen=True, slots=True)
class OpinionMap:
    width: int
    height: int
    points: list[MapPoint]
    groups: list[GroupRow]
    statements: list[tuple[int, str, bool]]  # id, text, consensus
    unplaced: int
    summary: str


def _polygon(shape: str, x: float, y: float) -> str:
    r = R
    corners = {
        "square": [(-r, -r), (r, -r), (r, r), (-r, r)],
        "triangle": [(0, -r * 1.2), (r * 1.1, r * 0.8), (-r * 1.1, r * 0.8)],
        "diamond": [(0, -r * 1.3), (r * 1.3, 0), (0, r * 1.3), (-r * 1.3, 0)],
        "cross": [
            (-r, -r / 3),
            (-r / 3, -r / 3),
            (-r / 3, -r),
            (r / 3, -r),
            (r / 3, -r / 3),
            (r, -r / 3),
            (r, r / 3),
            (r / 3, r / 3),
            (r / 3, r),
            (-r / 3, r),
            (-r / 3, r / 3),
            (-r, r / 3),
        ],
    }.get(shape, [])
    return " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)


def opinion_map(conversation: Conversation) -> OpinionMap:
    points = conversation.points
    step = max(1, -(-len(points) // MAX_POINTS))
    drawn = points[::step]
    xs = [p[1] for p in drawn] or [0.0]
    ys = [p[2] for p in drawn] or [0.0]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0

    def place(value: float, low: float, span: float, size: int) -> float:
        return PAD + (value - low) / span * (size - 2 * PAD)

    placed = []
    for _, x, y, group in drawn:
        shape = SHAPES[(group - 1) % len(SHAPES)] if group is not None else "circle"
        cx = place(x, min(xs), span_x, MAP_WIDTH)
        cy = MAP_HEIGHT - place(y, min(ys), span_y, MAP_HEIGHT)
        placed.append(MapPoint(round(cx, 1), round(cy, 1), group, shape, _polygon(shape, cx, cy)))
    texts = {s.id: s.text for s in conversation.statements}
    consensus = set(conversation.consensus)
    statements = [(s.id, s.text, s.id in consensus) for s in conversation.statements]
    groups = [
        GroupRow(
            g.id,
            g.size,
            SHAPES[(g.id - 1) % len(SHAPES)],
            [texts[s] for s in g.representative if s in texts],
            [g.agree_percent.get(s.id, 0.0) for s in conversation.statements],
        )
        for g in conversation.groups
    ]
    unplaced = sum(1 for p in points if p[3] is None)
    if groups:
        parts = ", ".join(
            f"group {g.id}: {g.size} {'person' if g.size == 1 else 'people'} "
            f"({SHAPE_NAMES[g.shape]})"
            for g in groups
        )
        summary = f"Opinion map of {len(points)} people in {len(groups)} groups: {parts}"
    else:
        summary = f"Opinion map of {len(points)} people: no opinion groups yet"
    if unplaced:
        summary += f"; {unplaced} with too few votes to be grouped (small grey circles)"
    return OpinionMap(MAP_WIDTH, MAP_HEIGHT, placed, groups, statements, unplaced, summary + ".")
