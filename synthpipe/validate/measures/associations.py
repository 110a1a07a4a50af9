"""The planted product pairs' footprint in a sales partition's legitimate sale lines:
complements brought after their anchor, substitutes sharing a basket."""

from __future__ import annotations

import numpy as np

from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import LineFrame, SalesFrame
from synthpipe.validate.merge import Stats


def associations(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Per complement pair, anchor lines and how many bring their partner, with the drawn
    rate of the partner after any other line (its chance of following by itself); per
    substitute pair, its lines per basket and the pairs of different members among them."""
    line = frame.lines
    natural = frame.sales.sale_line & ~line.partner
    stats = _complements(ctx, line, natural)
    stats.update(_substitutes(ctx, line, natural))
    return stats


def _complements(ctx: ValidationContext, line: LineFrame, natural: np.ndarray) -> Stats:
    pairs = ctx.pairs
    product = line.product
    n = product.shape[0]
    anchor = pairs.lookup(pairs.anchor_pair, product, -1)
    brought = np.zeros(n, dtype=bool)
    brought[:-1] = line.partner[1:]
    next_partner = np.full(n, -1, dtype=np.int64)
    if n > 1:
        next_partner[:-1] = np.where(
            line.follows, pairs.lookup(pairs.partner_pair, product[1:], -1), -1
        )
    k = pairs.complements
    is_anchor = natural & (anchor >= 0)
    other = natural & (anchor < 0)
    return {
        st.ASSOCIATIONS_ANCHOR_LINES: np.bincount(anchor[is_anchor], minlength=k),
        st.ASSOCIATIONS_ANCHOR_BROUGHT: np.bincount(anchor[is_anchor & brought], minlength=k),
        st.ASSOCIATIONS_OTHER_LINES: int(np.count_nonzero(other)),
        st.ASSOCIATIONS_OTHER_FOLLOWED: np.bincount(
            next_partner[other & (next_partner >= 0)], minlength=k
        ),
    }


def _substitutes(ctx: ValidationContext, line: LineFrame, natural: np.ndarray) -> Stats:
    """Per substitute pair: sum over baskets of (m - 1) and C(m - 1, 2), m the basket's
    lines of the pair, the baskets with two or more, and the pairs of different members."""
    pairs = ctx.pairs
    k = pairs.substitutes
    pair = pairs.lookup(pairs.substitute_pair, line.product, -1)
    rows = np.flatnonzero(natural & (pair >= 0))
    later: np.ndarray = np.zeros(k)
    later_pairs: np.ndarray = np.zeros(k)
    mixed: np.ndarray = np.zeros(k)
    baskets: np.ndarray = np.zeros(k, dtype=np.int64)
    if rows.size:
        chosen = pair.take(rows)
        order = np.lexsort((chosen, line.id.take(rows)))
        group_pair = chosen[order]
        group_id = line.id.take(rows)[order]
        new = np.concatenate(
            [[True], (group_id[1:] != group_id[:-1]) | (group_pair[1:] != group_pair[:-1])]
        )
        starts = np.flatnonzero(new)
        size = np.diff(np.append(starts, order.shape[0])).astype(np.float64)
        first = pairs.lookup(pairs.substitute_first, line.product.take(rows)[order], 0)
        firsts = np.add.reduceat(first.astype(np.float64), starts)
        owner = group_pair[starts]
        later = np.bincount(owner, weights=size - 1.0, minlength=k)
        later_pairs = np.bincount(owner, weights=(size - 1.0) * (size - 2.0) / 2.0, minlength=k)
        mixed = np.bincount(owner, weights=firsts * (size - firsts), minlength=k)
        baskets = np.bincount(owner[size >= 2], minlength=k)
    return {
        st.ASSOCIATIONS_SUBSTITUTE_LATER: later,
        st.ASSOCIATIONS_SUBSTITUTE_LATER_PAIRS: later_pairs,
        st.ASSOCIATIONS_SUBSTITUTE_MIXED: np.rint(mixed).astype(np.int64),
        st.ASSOCIATIONS_SUBSTITUTE_BASKETS: baskets,
    }
