"""The minimum-cost arborescence (Chu–Liu/Edmonds): the cheapest tree of arcs reaching every node
from a root. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["min_arborescence"]


def min_arborescence(nodes: Iterable[int], root: int, arcs: Sequence[tuple[int, int, float]]) -> dict[int, int] | None:
    """The minimum-cost spanning arborescence rooted at ``root`` (Chu–Liu/Edmonds).

    ``arcs`` are ``(tail, head, cost)``; returns, for every node but the root, the index in ``arcs``
    of the arc entering it, or None when some node cannot be reached from the root.
    """
    node_set = set(nodes) | {root}
    indexed = [(u, v, w, k) for k, (u, v, w) in enumerate(arcs) if u in node_set and v in node_set]
    chosen = _edmonds(node_set, root, indexed, max(node_set) + 1)
    return None if chosen is None else {arcs[k][1]: k for k in chosen}


def _edmonds(nodes: set[int], root: int, arcs: list[tuple[int, int, float, int]], fresh: int) -> list[int] | None:
    """The fourth fields of the arcs of the minimum arborescence over ``arcs``.

    Each node takes its cheapest entering arc; if those form a cycle, the cycle is contracted
    into one node (an arc entering it costs what it saves over the arc it would replace), the
    smaller problem is solved, and the cycle is opened where the chosen arc enters it.
    """
    best: dict[int, int] = {}
    for k, (u, v, w, _) in enumerate(arcs):
        if v != root and u != v and (v not in best or w < arcs[best[v]][2]):
            best[v] = k
    if any(v not in best for v in nodes if v != root):
        return None
    cycle = _find_cycle({v: arcs[k][0] for v, k in best.items()}, root)
    if cycle is None:
        return [arcs[k][3] for k in best.values()]
    in_cycle = set(cycle)
    contracted: list[tuple[int, int, float, int]] = []
    back: list[int] = []  # position in ``contracted`` -> index in ``arcs``
    for k, (u, v, w, _) in enumerate(arcs):
        if u in in_cycle and v in in_cycle:
            continue
        if v in in_cycle:
            contracted.append((u, fresh, w - arcs[best[v]][2], len(contracted)))
        elif u in in_cycle:
            contracted.append((fresh, v, w, len(contracted)))
        else:
            contracted.append((u, v, w, len(contracted)))
        back.append(k)
    solved = _edmonds((nodes - in_cycle) | {fresh}, root, contracted, fresh + 1)
    if solved is None:
        return None
    chosen = [back[position] for position in solved]
    opened = next(arcs[k][1] for k in chosen if arcs[k][1] in in_cycle)
    chosen.extend(best[v] for v in cycle if v != opened)
    return [arcs[k][3] for k in chosen]


def _find_cycle(parent: Mapping[int, int], root: int) -> list[int] | None:
    """A cycle of the ``parent`` pointers, if any (nodes on a path to the root are not in one)."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for start in parent:
        path: list[int] = []
        v = start
        while v != root and v in parent and state.get(v, 0) == 0:
            state[v] = 1
            path.append(v)
            v = parent[v]
        if v in parent and state.get(v) == 1:
            return path[path.index(v) :]
        for node in path:
            state[node] = 2
    return None
