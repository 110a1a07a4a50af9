"""The ``identity`` section: devices, network addresses, payment cards and shipping addresses
that customers own and share (``synthpipe.model.identity`` draws them).

Every customer owns a few of each; households of two or more customers share devices, a
home address, a home connection and sometimes a family card; carrier NAT and public Wi-Fi
put many accounts behind one network address; gifts ship to another customer's home. So a
key that several accounts share is no verdict by itself (docs/fraud.md, "Identity graph").
"""

from __future__ import annotations

from pydantic import Field

from synthpipe.spec.base import StrictModel


class Identity(StrictModel):
    """What customers own and share: the identity graph of the legitimate world."""

    household_share: float = Field(
        default=0.35,
        ge=0,
        le=1,
        description="share of customers who live in a household of two or more customers",
    )
    household_size_max: int = Field(
        default=4,
        ge=2,
        le=10,
        description="largest household; a household's size is uniform in 2..household_size_max",
    )
    devices_mean: float = Field(
        default=1.6,
        ge=1,
        le=10,
        description="mean devices a customer owns: 1 + Poisson(devices_mean - 1)",
    )
    shared_device_share: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="share of a household member's online sessions on a housemate's device",
    )
    cards_mean: float = Field(
        default=1.5,
        ge=1,
        le=10,
        description="mean payment cards a customer holds: 1 + Poisson(cards_mean - 1)",
    )
    family_card_share: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description=(
            "share of households with a family card (held by one member, used by all): a"
            " member pays with it as often as with each of their own cards"
        ),
    )
    extra_addresses_mean: float = Field(
        default=0.3,
        ge=0,
        le=10,
        description="mean addresses a customer registers besides the home: Poisson",
    )
    other_address_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description=(
            "share of online orders of a customer with another address shipped there"
            " (work, a holiday home) instead of home"
        ),
    )
    public_ip_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description=(
            "share of online sessions from a public network address (carrier NAT, café,"
            " travel) instead of the household's home connection"
        ),
    )
    public_ips: int = Field(
        default=2_000,
        ge=1,
        le=10_000_000,
        description="public network addresses in the whole country, each shared by many accounts",
    )
