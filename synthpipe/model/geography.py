"""Sampling places: a city is drawn with probability proportional to its state's population
shared among the state's listed cities by their own population."""

from __future__ import annotations

from functools import cache

import numpy as np

from synthpipe.data.geography import Geography, load_geography


def city_weights(geography: Geography) -> np.ndarray:
    """P(city) = P(state) x city population / population of the state's listed cities."""
    listed = np.bincount(
        geography.city_state, weights=geography.city_population, minlength=len(geography.states)
    )
    state_share = geography.state_population / geography.state_population.sum()
    within = geography.city_population / listed[geography.city_state]
    return np.asarray(state_share[geography.city_state] * within)


@cache
def region_shares(country: str) -> np.ndarray:
    """Share of the population living in each region."""
    geography = load_geography(country)
    population = geography.region_population()
    return np.asarray(population / population.sum())
