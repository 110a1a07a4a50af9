"""Named sub-streams of the legitimate transactions: which process (a first sale, an
ordinary refund, a same-day repeat) of which channel a generator's draws make.

A stream of ``synthpipe.seeds`` is split by a sub-key so that each process and channel
draws on its own. The sub-keys are integers in the seed contract, so ``sub_key`` numbers
them exactly as they always were: the processes take consecutive blocks of one key per
channel (sales 0.., refunds after them, repeats after those). Renumbering would move
every draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from synthpipe.model.ids import LEGIT_SUBRANGE
from synthpipe.seeds import Entity
from synthpipe.vocabulary import CHANNELS


class Process(IntEnum):
    """What a legitimate sub-stream makes; the value is the process's block of sub-keys
    (append only)."""

    SALE = 0  # a customer's first sale of the day in a channel
    REFUND = 1  # an ordinary refund
    REPEAT = 2  # a sale's same-day repeat


# The id sub-range name of each process is its prefix plus the channel's name.
SUBRANGE_PREFIX = {Process.SALE: "", Process.REFUND: "refund_", Process.REPEAT: "repeat_"}


@dataclass(frozen=True)
class SubStream:
    """One process of one channel: the owner of a family of generators."""

    process: Process
    channel: int  # index into CHANNELS

    @property
    def key(self) -> int:
        """The integer sub-key of its generators (``sub_key``)."""
        return sub_key(self)

    @property
    def entity(self) -> Entity:
        """The seed entity its generators are keyed under: refunds have their own."""
        return Entity.REFUNDS if self.process is Process.REFUND else Entity.TRANSACTIONS

    @property
    def subrange(self) -> int:
        """The transaction-id sub-range of what it makes."""
        return LEGIT_SUBRANGE[f"{SUBRANGE_PREFIX[self.process]}{CHANNELS[self.channel]}"]


def sub_key(sub: SubStream) -> int:
    """The seed sub-key of a sub-stream: process block x channels + channel."""
    return int(sub.process) * len(CHANNELS) + sub.channel


def sale(channel: int) -> SubStream:
    """The first sales of a channel."""
    return SubStream(Process.SALE, channel)


def refund(channel: int) -> SubStream:
    """The ordinary refunds of a channel."""
    return SubStream(Process.REFUND, channel)


def repeat(channel: int) -> SubStream:
    """The same-day repeats of a channel's sales."""
    return SubStream(Process.REPEAT, channel)
