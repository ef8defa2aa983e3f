"""Automatic layout of an SOP process: a lane is a row, every flow node is a column.

No library lays out lanes (bpmn-auto-layout ignores them), and SOP flows are simple enough
to place directly, the way the paper table does: rows are the Pelaksana, columns follow the
step order. Giving every node (steps, gateways, events) its own column means no two shapes
ever share a column, so vertical edge segments placed in the gaps between columns, or in a
node's own column, never cross a shape. Return flows ("Tidak") run along a channel in the
bottom margin of the deciding lane, below every shape of that row; long forward flows run
along the top margin. All edges are orthogonal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "Bounds",
    "EdgeKind",
    "EdgeLayout",
    "EdgeSpec",
    "Layout",
    "NodeShape",
    "NodeSpec",
    "ShapeKind",
    "layout_process",
    "task_size",
]

LANE_HEIGHT = 140
LANE_HEADER = 30  # bpmn-js draws lanes 30 px right of the pool's left edge
POOL_X = 100
POOL_Y = 60
FIRST_COLUMN_PAD = 50  # between the lane's name band and the first shape
LAST_COLUMN_PAD = 50
GAP = 50  # between two columns: edges turn at its middle
CHANNEL_MARGIN = 12  # distance of the first channel from the lane's edge
CHANNEL_STEP = 8  # between channels of the same lane

LABEL_HEIGHT = 14


class ShapeKind(Enum):
    EVENT = (36, 36)
    TASK = (100, 80)
    GATEWAY = (50, 50)

    @property
    def width(self) -> int:
        return self.value[0]

    @property
    def height(self) -> int:
        return self.value[1]


class EdgeKind(Enum):
    FORWARD = "forward"
    #: a "Tidak" flow going back to an earlier column
    RETURN = "return"


@dataclass(frozen=True, slots=True)
class Bounds:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def cx(self) -> int:
        return self.x + self.width // 2

    @property
    def cy(self) -> int:
        return self.y + self.height // 2

    def contains(self, other: Bounds) -> bool:
        return (self.x <= other.x and self.y <= other.y
                and other.right <= self.right and other.bottom <= self.bottom)

    def overlaps(self, other: Bounds) -> bool:
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """A node to place: its column is its position in the sequence given to the layout."""

    id: str
    kind: ShapeKind
    lane: int  # 0-based row
    label: str | None = None  # drawn as an external label (events, named gateways)
    #: (width, height) overriding the kind's default, e.g. a wider task for a long name
    size: tuple[int, int] | None = None
    #: placed in the column of the node before it, in another lane (the tasks of a
    #: parallel block side by side, as a modeler draws them)
    shares_column: bool = False

    @property
    def width(self) -> int:
        return self.size[0] if self.size else self.kind.width

    @property
    def height(self) -> int:
        return self.size[1] if self.size else self.kind.height


@dataclass(frozen=True, slots=True)
class EdgeSpec:
    id: str
    source: str
    target: str
    kind: EdgeKind = EdgeKind.FORWARD
    label: str | None = None


@dataclass(frozen=True, slots=True)
class NodeShape:
    bounds: Bounds
    label: Bounds | None


@dataclass(frozen=True, slots=True)
class EdgeLayout:
    waypoints: tuple[tuple[int, int], ...]
    label: Bounds | None


@dataclass(frozen=True, slots=True)
class Layout:
    pool: Bounds
    lanes: tuple[Bounds, ...]
    nodes: dict[str, NodeShape]
    edges: dict[str, EdgeLayout]


def _label_width(text: str) -> int:
    # about 6 px per character at bpmn-js's 11 px label font, never narrower than 20
    return max(20, 6 * len(text) + 4)


def task_size(name: str) -> tuple[int, int]:
    """A task box that fits its name: SOP step names run from 2 to 40 words.

    bpmn-js wraps a task's name inside its box at about 6.5 px per character and lets longer
    text overflow, so long names get wider (and for the longest, taller) boxes; the height
    stays within the lane's row with room for the return channels below.
    """
    length = len(name)
    if length <= 45:
        return ShapeKind.TASK.width, ShapeKind.TASK.height
    if length <= 110:
        return 140, ShapeKind.TASK.height
    return 180, 100


def layout_process(
    lane_count: int, nodes: Sequence[NodeSpec], edges: Sequence[EdgeSpec]
) -> Layout:
    """Place ``nodes`` left to right in the given order, each in its lane's row."""
    lane_x = POOL_X + LANE_HEADER
    # a row is LANE_HEIGHT tall; each return channel past the first adds CHANNEL_STEP below
    # the shapes, so many returns from one lane never run through its tasks
    node_lane = {node.id: node.lane for node in nodes}
    returns = [0] * lane_count
    for edge in edges:
        if edge.kind is EdgeKind.RETURN:
            returns[node_lane[edge.source]] += 1
    heights = [LANE_HEIGHT + max(0, n - 1) * CHANNEL_STEP for n in returns]
    tops = [POOL_Y + sum(heights[:i]) for i in range(lane_count)]
    # columns: x and width; a column shared by several nodes is as wide as the widest
    columns: list[list[int]] = []
    column: dict[str, int] = {}
    for node in nodes:
        if node.shares_column and columns:
            if any(column[other.id] == len(columns) - 1 and other.lane == node.lane
                   for other in nodes if other.id in column):
                raise ValueError(f"{node.id} shares a column with a node of its own lane")
            columns[-1][1] = max(columns[-1][1], node.width)
        else:
            columns.append([0, node.width])
        column[node.id] = len(columns) - 1
    cursor = lane_x + LANE_HEADER + FIRST_COLUMN_PAD
    for spec in columns:
        spec[0] = cursor
        cursor += spec[1] + GAP
    shapes: dict[str, NodeShape] = {}
    lane_of: dict[str, int] = {}
    for node in nodes:
        row_y = tops[node.lane]
        col_x, col_width = columns[column[node.id]]
        bounds = Bounds(col_x + (col_width - node.width) // 2,
                        row_y + (LANE_HEIGHT - node.height) // 2, node.width, node.height)
        label = None
        if node.label:
            width = _label_width(node.label)
            if node.kind is ShapeKind.GATEWAY:
                label_y = bounds.y - LABEL_HEIGHT - 4  # above: the bottom holds "Tidak"
            else:
                label_y = bounds.bottom + 5
            label = Bounds(bounds.cx - width // 2, label_y, width, LABEL_HEIGHT)
        shapes[node.id] = NodeShape(bounds, label)
        lane_of[node.id] = node.lane
    lane_width = cursor - GAP + LAST_COLUMN_PAD - lane_x
    lanes = tuple(
        Bounds(lane_x, tops[i], lane_width, heights[i])
        for i in range(lane_count)
    )
    pool = Bounds(POOL_X, POOL_Y, lane_width + LANE_HEADER, sum(heights))

    channels_used: dict[int, int] = {}
    routed: dict[str, EdgeLayout] = {}
    for edge in edges:
        points: tuple[tuple[int, int], ...]
        source, target = shapes[edge.source].bounds, shapes[edge.target].bounds
        if edge.kind is EdgeKind.RETURN:
            lane = lane_of[edge.source]
            k = channels_used.get(lane, 0)
            channels_used[lane] = k + 1
            channel_y = lanes[lane].bottom - CHANNEL_MARGIN - k * CHANNEL_STEP
            entry_y = target.bottom if target.cy <= channel_y else target.y
            points = ((source.cx, source.bottom), (source.cx, channel_y),
                      (target.cx, channel_y), (target.cx, entry_y))
            label = None
            if edge.label:
                label = Bounds(source.cx + 5, source.bottom + 3,
                               _label_width(edge.label), LABEL_HEIGHT)
        else:
            start = (source.right, source.cy)
            end = (target.x, target.cy)
            # vertical segments run in the gap after the source's column (before the
            # target's), measured from the column's edge: a shared column's other shapes
            # may be wider than the source
            source_right = sum(columns[column[edge.source]])
            target_left = columns[column[edge.target]][0]
            if column[edge.target] == column[edge.source] + 1:
                middle = source_right + GAP // 2
                if start[1] == end[1]:
                    points = (start, end)
                else:
                    points = (start, (middle, start[1]), (middle, end[1]), end)
            else:
                # skips columns: over the top margin of the source lane, clear of shapes
                top = lanes[lane_of[edge.source]].y + CHANNEL_MARGIN
                out_x, in_x = source_right + GAP // 2, target_left - GAP // 2
                points = (start, (out_x, start[1]), (out_x, top), (in_x, top),
                          (in_x, end[1]), end)
            label = None
            if edge.label:
                label = Bounds(source.right + 3, source.cy - LABEL_HEIGHT - 3,
                               _label_width(edge.label), LABEL_HEIGHT)
        routed[edge.id] = EdgeLayout(points, label)
    return Layout(pool=pool, lanes=lanes, nodes=shapes, edges=routed)
