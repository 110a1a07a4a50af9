"""Built-in geographies: regions, states and cities with population weights per country."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import yaml

# libyaml's safe loader where PyYAML was built with it: ten times faster on the city lists
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

GEOGRAPHY_PACKAGE = "synthpipe.data"
GEOGRAPHY_FOLDER = "geography"


@dataclass(frozen=True)
class Geography:
    """A country's regions, states and cities as flat, index-linked arrays."""

    country: str
    locales: dict[str, float]
    address_locale: str
    regions: tuple[str, ...]
    states: tuple[str, ...]
    state_codes: tuple[str, ...]
    state_region: np.ndarray  # region index of each state
    state_population: np.ndarray  # thousands
    cities: tuple[str, ...]
    city_state: np.ndarray  # state index of each city
    city_population: np.ndarray  # thousands

    def region_population(self) -> np.ndarray:
        """Population (thousands) of each region."""
        return np.bincount(
            self.state_region, weights=self.state_population, minlength=len(self.regions)
        )


@cache
def supported_countries() -> tuple[str, ...]:
    """Country codes with a built-in geography."""
    folder = resources.files(GEOGRAPHY_PACKAGE).joinpath(GEOGRAPHY_FOLDER)
    return tuple(
        sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    )


@cache
def load_geography(country: str) -> Geography:
    """Load the built-in geography of ``country`` (one of ``supported_countries()``)."""
    text = (
        resources.files(GEOGRAPHY_PACKAGE)
        .joinpath(GEOGRAPHY_FOLDER, f"{country}.yaml")
        .read_text("utf-8")
    )
    raw = yaml.load(text, Loader=SAFE_LOADER)
    regions: list[str] = []
    states: list[str] = []
    codes: list[str] = []
    state_region: list[int] = []
    state_population: list[float] = []
    cities: list[str] = []
    city_state: list[int] = []
    city_population: list[float] = []
    for region_index, (region, region_states) in enumerate(raw["regions"].items()):
        regions.append(str(region))
        for state, info in region_states.items():
            state_index = len(states)
            states.append(str(state))
            codes.append(str(info["code"]))
            state_region.append(region_index)
            state_population.append(float(info["population"]))
            for city, population in info["cities"].items():
                cities.append(str(city))
                city_state.append(state_index)
                city_population.append(float(population))
    return Geography(
        country=str(raw["country"]),
        locales={str(k): float(v) for k, v in raw["locales"].items()},
        address_locale=str(raw["address_locale"]),
        regions=tuple(regions),
        states=tuple(states),
        state_codes=tuple(codes),
        state_region=np.asarray(state_region, dtype=np.int16),
        state_population=np.asarray(state_population),
        cities=tuple(cities),
        city_state=np.asarray(city_state, dtype=np.int16),
        city_population=np.asarray(city_population),
    )


def default_locales(country: str) -> dict[str, float]:
    """The Faker locale mix used for customer names in ``country``."""
    return dict(load_geography(country).locales)
