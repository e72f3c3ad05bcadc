"""Secondary suppression: withhold more cells until no withheld figure can be worked out exactly.

A withheld cell on a line published with its total could be recovered by subtraction. The
next-smallest rule withholds a second figure on every such line, to a fixed point; bridge repair
then reads the withheld cells as the edges of a graph between equations and withholds more cells
until every edge lies on a cycle (a bridge is a withheld value the published figures fix). The
method is stated in full in :func:`~needskit.disclosure.suppression.apply_rules`.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from needskit.disclosure.tables import Table

__all__ = ["secondary_suppression"]


def secondary_suppression(tab: Table, primary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Secondary suppression: next-smallest rule to a fixed point, then bridge repair.

    Returns the withheld mask and, for each secondary cell, the cell it protects (else -1).

    Parameters
    ----------
    tab
        The table from :func:`~needskit.disclosure.tables.build_table`, with its totals.
    primary
        Cells withheld by the primary rule.

    Returns
    -------
    withheld : numpy.ndarray
        Boolean mask of every withheld cell, primary included.
    protects : numpy.ndarray
        For each secondary cell, the index of the cell it protects; -1 elsewhere.
    """
    value, is_total = tab.exact, tab.is_total
    suppressed = primary.copy()
    protects = np.full(len(value), -1, dtype=np.int64)
    # Candidate order within a line: non-zero first, then smallest, inner before total, then position.
    rank = np.empty(len(value), dtype=np.int64)
    rank[np.lexsort((np.arange(len(value)), is_total, value, value == 0))] = np.arange(len(value))
    n_lines = len(tab.has_eq)
    phases = [(tab.row_line, tab.has_eq[tab.row_line]), (tab.col_line, tab.has_eq[tab.col_line])]
    stable = 0
    while stable < 2:  # alternate rows and columns until neither changes anything
        for line, eq in phases:
            count = np.bincount(line[eq & suppressed], minlength=n_lines)
            need = eq & (count[line] == 1)
            if not need.any():
                stable += 1
                continue
            stable = 0
            lone = np.full(n_lines, -1, dtype=np.int64)
            idx = np.flatnonzero(need & suppressed)
            lone[line[idx]] = idx
            cand = np.flatnonzero(need & ~suppressed)
            order = cand[np.lexsort((rank[cand], line[cand]))]
            first = np.r_[True, line[order][1:] != line[order][:-1]]
            chosen = order[first]
            suppressed[chosen] = True
            protects[chosen] = lone[line[chosen]]
    _repair_bridges(tab, suppressed, protects, rank)
    return suppressed, protects


def _repair_bridges(tab: Table, suppressed: np.ndarray, protects: np.ndarray, rank: np.ndarray) -> None:
    """Withhold more cells until no withheld cell is a bridge of the withheld-cell graph (in place).

    Vertices are the equation lines; every line without an equation is merged into one free
    vertex per table (nothing constrains it). Withheld cells are edges between their two lines.
    The published figures fix a withheld value exactly iff its edge lies on no cycle.
    """
    n_lines = len(tab.has_eq)
    free = n_lines + tab.line_table
    vertex = np.where(tab.has_eq, np.arange(n_lines), free)
    vr, vc = vertex[tab.row_line], vertex[tab.col_line]
    n_vertices = n_lines + int(tab.line_table.max()) + 1
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_vertices)]
    for k in np.flatnonzero(suppressed).tolist():
        a, b = int(vr[k]), int(vc[k])
        if a != b:
            adj[a].append((b, k))
            adj[b].append((a, k))
    bridges = _bridges(adj)
    if not bridges:
        return
    cell_table = tab.line_table[tab.row_line]
    order = np.argsort(cell_table, kind="stable")
    starts = np.searchsorted(cell_table[order], np.arange(int(cell_table.max()) + 2))
    side = np.zeros(n_vertices, dtype=np.int8)
    for e in bridges:
        u, v = int(vr[e]), int(vc[e])
        left = _reach(adj, u, banned=e)
        if v in left:  # an earlier repair already put it on a cycle
            continue
        right = _reach(adj, v, banned=e)
        side[list(left)] = 1
        side[list(right)] = 2
        t = int(cell_table[e])
        cells = order[starts[t] : starts[t + 1]]
        crossing = cells[(side[vr[cells]].astype(np.int16) * side[vc[cells]] == 2) & ~suppressed[cells]]
        side[list(left)] = 0
        side[list(right)] = 0
        # Never empty: u and v each have a second withheld edge (every equation line holds 0 or >= 2),
        # to v' on u's side and u' on v's side, and the cell (u', v') joins the sides unwithheld.
        assert len(crossing), "internal: no cell joins the two sides of a bridge"
        k = int(crossing[np.argmin(rank[crossing])])
        suppressed[k] = True
        protects[k] = e
        a, b = int(vr[k]), int(vc[k])
        adj[a].append((b, k))
        adj[b].append((a, k))


def _bridges(adj: list[list[tuple[int, int]]]) -> list[int]:
    """Edge ids of the bridges of a multigraph given as adjacency lists of (neighbour, edge id).

    Iterative Tarjan: an edge (p, v) of the DFS tree is a bridge when nothing below v reaches p
    or above by another edge. Parallel edges are kept apart by edge id.
    """
    n = len(adj)
    disc = [-1] * n
    low = [0] * n
    timer = 0
    out: list[int] = []
    for s in range(n):
        if disc[s] != -1 or not adj[s]:
            continue
        disc[s] = low[s] = timer
        timer += 1
        stack = [(s, -1, iter(adj[s]))]
        while stack:
            v, via, it = stack[-1]
            for w, k in it:
                if k == via:
                    continue
                if disc[w] == -1:
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append((w, k, iter(adj[w])))
                    break
                low[v] = min(low[v], disc[w])
            else:
                stack.pop()
                if stack:
                    p = stack[-1][0]
                    low[p] = min(low[p], low[v])
                    if low[v] > disc[p]:
                        out.append(via)
    return out


def _reach(adj: list[list[tuple[int, int]]], start: int, *, banned: int) -> set[int]:
    seen = {start}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w, k in adj[v]:
            if k != banned and w not in seen:
                seen.add(w)
                queue.append(w)
    return seen
