"""Default parameters of the retail world: a mid-size general-merchandise retailer.

Every number here is a parameter of the documented generating process (docs/process.md,
"The generating process"); a spec overrides any of them. Values are rounded public
aggregates (US adult age structure, income by age, retail weekday and month mixes), chosen
to look like a real retailer, not to reproduce one.
"""

from __future__ import annotations

from typing import Any

# Share of adults per age band, US-like adult population (bands are inclusive).
AGE_PYRAMID: list[dict[str, Any]] = [
    {"min": 18, "max": 24, "weight": 0.118},
    {"min": 25, "max": 34, "weight": 0.176},
    {"min": 35, "max": 44, "weight": 0.165},
    {"min": 45, "max": 54, "weight": 0.156},
    {"min": 55, "max": 64, "weight": 0.164},
    {"min": 65, "max": 74, "weight": 0.126},
    {"min": 75, "max": 90, "weight": 0.095},
]

# Median annual personal income by age (linear interpolation between the points):
# rises to mid-life, falls after retirement.
INCOME_MEDIAN_BY_AGE: dict[int, float] = {
    18: 15_000,
    25: 38_000,
    35: 55_000,
    45: 62_000,
    55: 60_000,
    65: 45_000,
    75: 32_000,
    90: 26_000,
}
INCOME_SIGMA = 0.6  # log-scale spread of income around the age/segment median

GENDER_SHARES: dict[str, float] = {"female": 0.505, "male": 0.485, "nonbinary": 0.01}

SEGMENTS: dict[str, dict[str, float]] = {
    "budget": {
        "share": 0.35,
        "income_factor": 0.75,
        "frequency": 1.15,
        "basket": 0.8,
        "loyalty_rate": 0.25,
    },
    "mainstream": {
        "share": 0.45,
        "income_factor": 1.0,
        "frequency": 1.0,
        "basket": 1.0,
        "loyalty_rate": 0.35,
    },
    "premium": {
        "share": 0.20,
        "income_factor": 1.6,
        "frequency": 0.8,
        "basket": 1.5,
        "loyalty_rate": 0.45,
    },
}

# Monday .. Sunday multipliers (normalised to mean 1 by the model).
WEEKDAY = [0.88, 0.85, 0.88, 0.93, 1.08, 1.25, 1.13]
# January .. December multipliers at mid-month (normalised to mean 1; interpolated daily).
MONTHLY = [0.90, 0.88, 0.97, 0.98, 1.02, 1.00, 1.00, 1.03, 0.96, 0.99, 1.05, 1.12]

# Relative transactions per local hour 0..23.
IN_STORE_HOURS = [
    0, 0, 0, 0, 0, 0, 0, 0.5, 1.5, 3, 5, 6.5,
    8, 7.5, 7, 7, 7.5, 8.5, 8.5, 7, 5, 3, 0, 0,
]  # fmt: skip
ONLINE_HOURS = [
    1.5, 0.9, 0.6, 0.4, 0.4, 0.6, 1.2, 2.2, 3.2, 4, 4.5, 4.8,
    5.2, 5, 4.8, 4.8, 5, 5.3, 5.8, 6.5, 7.2, 7, 5.5, 3.2,
]  # fmt: skip

IN_STORE_PAYMENT = {
    "credit_card": 0.42,
    "debit_card": 0.30,
    "cash": 0.16,
    "mobile_wallet": 0.10,
    "gift_card": 0.02,
}
ONLINE_PAYMENT = {
    "credit_card": 0.52,
    "debit_card": 0.18,
    "mobile_wallet": 0.16,
    "buy_now_pay_later": 0.10,
    "gift_card": 0.04,
}
ONLINE_SHARE = 0.22
# Multiplier on the online share by age band (younger customers buy online more).
ONLINE_AGE_FACTOR = {
    "18-24": 1.5,
    "25-34": 1.45,
    "35-44": 1.2,
    "45-54": 0.95,
    "55-64": 0.75,
    "65-74": 0.55,
    "75-90": 0.4,
}

FLAT_SEASON = [1.0] * 12

CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "Grocery",
        "subcategories": ["Produce", "Dairy", "Bakery", "Pantry", "Beverages", "Snacks", "Frozen"],
        "demand": 0.30,
        "catalog_share": 0.22,
        "price": {"median": 3.8, "sigma": 0.55},
        "margin": {"min": 0.18, "max": 0.32},
        "quantity_mean": 0.9,
        "seasonality": [1.0, 0.97, 1.0, 1.0, 1.0, 1.0, 1.02, 1.0, 0.98, 1.0, 1.03, 1.1],
        "gender_affinity": {"female": 1.1},
        "age_affinity": {"18-24": 0.8},
        "return_rate": 0.2,
        "replenish_days": 21,
    },
    {
        "name": "Household",
        "subcategories": ["Cleaning", "Paper Goods", "Laundry", "Storage"],
        "demand": 0.10,
        "catalog_share": 0.08,
        "price": {"median": 7.5, "sigma": 0.5},
        "margin": {"min": 0.25, "max": 0.4},
        "quantity_mean": 0.4,
        "return_rate": 0.5,
        "replenish_days": 45,
    },
    {
        "name": "Health & Beauty",
        "subcategories": ["Skincare", "Haircare", "Vitamins", "Makeup", "Oral Care"],
        "demand": 0.09,
        "catalog_share": 0.09,
        "price": {"median": 11.0, "sigma": 0.6},
        "margin": {"min": 0.35, "max": 0.55},
        "quantity_mean": 0.3,
        "gender_affinity": {"female": 1.5, "male": 0.6},
        "return_rate": 0.6,
        "replenish_days": 60,
    },
    {
        "name": "Apparel",
        "subcategories": ["Women's", "Men's", "Kids'", "Shoes", "Accessories"],
        "demand": 0.10,
        "catalog_share": 0.14,
        "price": {"median": 26.0, "sigma": 0.6},
        "margin": {"min": 0.45, "max": 0.65},
        "quantity_mean": 0.35,
        "seasonality": [0.85, 0.8, 1.0, 1.05, 1.05, 1.0, 0.95, 1.1, 1.05, 1.0, 1.05, 1.2],
        "gender_affinity": {"female": 1.3, "male": 0.8},
        "age_affinity": {"18-24": 1.4, "25-34": 1.2, "65-74": 0.7, "75-90": 0.6},
        "return_rate": 3.0,
    },
    {
        "name": "Electronics",
        "subcategories": ["Phones", "Computers", "TV & Audio", "Gaming", "Accessories"],
        "demand": 0.05,
        "catalog_share": 0.07,
        "price": {"median": 85.0, "sigma": 1.0},
        "margin": {"min": 0.12, "max": 0.3},
        "quantity_mean": 0.05,
        "seasonality": [0.85, 0.8, 0.85, 0.85, 0.9, 0.9, 0.95, 1.05, 0.95, 0.95, 1.35, 1.6],
        "gender_affinity": {"male": 1.35, "female": 0.75},
        "age_affinity": {"18-24": 1.4, "25-34": 1.3, "65-74": 0.6, "75-90": 0.45},
        "return_rate": 2.5,
    },
    {
        "name": "Home & Kitchen",
        "subcategories": ["Cookware", "Small Appliances", "Bedding", "Decor", "Furniture"],
        "demand": 0.07,
        "catalog_share": 0.10,
        "price": {"median": 32.0, "sigma": 0.8},
        "margin": {"min": 0.35, "max": 0.55},
        "quantity_mean": 0.15,
        "seasonality": [0.95, 0.9, 0.95, 1.0, 1.0, 0.95, 0.95, 1.05, 1.0, 1.0, 1.1, 1.2],
        "age_affinity": {"35-44": 1.15, "45-54": 1.15, "18-24": 0.8},
        "return_rate": 2.0,
    },
    {
        "name": "Toys & Games",
        "subcategories": [
            "Action Figures",
            "Board Games",
            "Dolls",
            "Building Sets",
            "Outdoor Toys",
        ],
        "demand": 0.04,
        "catalog_share": 0.06,
        "price": {"median": 22.0, "sigma": 0.7},
        "margin": {"min": 0.35, "max": 0.5},
        "quantity_mean": 0.2,
        "seasonality": [0.55, 0.55, 0.65, 0.7, 0.75, 0.75, 0.75, 0.75, 0.8, 0.95, 1.6, 3.1],
        "age_affinity": {"18-24": 0.6, "25-34": 1.5, "35-44": 1.6, "75-90": 0.6},
        "return_rate": 1.5,
    },
    {
        "name": "Sports & Outdoors",
        "subcategories": ["Fitness", "Camping", "Cycling", "Team Sports", "Water Sports"],
        "demand": 0.04,
        "catalog_share": 0.06,
        "price": {"median": 35.0, "sigma": 0.8},
        "margin": {"min": 0.3, "max": 0.45},
        "quantity_mean": 0.1,
        "seasonality": [1.25, 1.0, 1.0, 1.05, 1.2, 1.3, 1.3, 1.1, 0.9, 0.8, 0.8, 0.95],
        "gender_affinity": {"male": 1.25, "female": 0.85},
        "age_affinity": {"18-24": 1.3, "25-34": 1.3, "65-74": 0.6, "75-90": 0.4},
        "return_rate": 1.5,
    },
    {
        "name": "Garden & Patio",
        "subcategories": ["Plants & Seeds", "Garden Tools", "Outdoor Furniture", "Grills"],
        "demand": 0.03,
        "catalog_share": 0.05,
        "price": {"median": 28.0, "sigma": 0.9},
        "margin": {"min": 0.35, "max": 0.5},
        "quantity_mean": 0.4,
        "seasonality": [0.35, 0.5, 1.2, 2.1, 2.3, 1.9, 1.3, 0.9, 0.7, 0.55, 0.35, 0.35],
        "age_affinity": {
            "18-24": 0.4,
            "25-34": 0.7,
            "45-54": 1.3,
            "55-64": 1.5,
            "65-74": 1.5,
        },
        "return_rate": 1.0,
    },
    {
        "name": "Books & Stationery",
        "subcategories": ["Books", "School Supplies", "Office Supplies", "Art & Crafts"],
        "demand": 0.05,
        "catalog_share": 0.06,
        "price": {"median": 9.0, "sigma": 0.6},
        "margin": {"min": 0.3, "max": 0.45},
        "quantity_mean": 0.5,
        "seasonality": [0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 1.1, 1.6, 1.2, 0.9, 0.95, 1.1],
        "age_affinity": {"18-24": 1.3, "35-44": 1.2},
        "return_rate": 0.6,
    },
    {
        "name": "Baby",
        "subcategories": ["Diapers", "Feeding", "Nursery", "Baby Care"],
        "demand": 0.03,
        "catalog_share": 0.04,
        "price": {"median": 16.0, "sigma": 0.6},
        "margin": {"min": 0.25, "max": 0.4},
        "quantity_mean": 0.4,
        "gender_affinity": {"female": 1.3, "male": 0.75},
        "age_affinity": {
            "18-24": 1.2,
            "25-34": 2.6,
            "35-44": 1.6,
            "55-64": 0.4,
            "65-74": 0.3,
            "75-90": 0.2,
        },
        "return_rate": 0.8,
        "replenish_days": 30,
    },
    {
        "name": "Pet Supplies",
        "subcategories": ["Pet Food", "Pet Toys", "Pet Care"],
        "demand": 0.04,
        "catalog_share": 0.04,
        "price": {"median": 14.0, "sigma": 0.7},
        "margin": {"min": 0.3, "max": 0.45},
        "quantity_mean": 0.3,
        "return_rate": 0.5,
        "replenish_days": 30,
    },
    {
        "name": "Gift Cards",
        "subcategories": ["Store Gift Cards", "Digital Gift Cards"],
        "demand": 0.01,
        "catalog_share": 0.01,
        "price": {"median": 50.0, "sigma": 0.0, "values": [10, 25, 50, 100, 200]},
        "margin": {"min": 0.0, "max": 0.0},
        "quantity_mean": 0.1,
        "seasonality": [0.6, 0.7, 0.7, 0.8, 1.0, 0.9, 0.8, 0.8, 0.8, 0.9, 1.3, 3.0],
        "return_rate": 0.0,
    },
]

STORE_FORMATS: dict[str, dict[str, float]] = {
    "hypermarket": {"share": 0.15, "traffic": 3.0},
    "supermarket": {"share": 0.45, "traffic": 1.5},
    "express": {"share": 0.30, "traffic": 0.7},
    "outlet": {"share": 0.10, "traffic": 1.0},
}

# Multipliers on public holidays, by the English holiday name of the `holidays` package.
HOLIDAY_OVERRIDES: dict[str, float] = {
    "Christmas Day": 0.1,
    "Thanksgiving Day": 0.45,
    "New Year's Day": 0.5,
    "Independence Day": 0.8,
    "Memorial Day": 1.15,
    "Labor Day": 1.1,
    "Easter Monday": 0.7,
    "Boxing Day": 1.4,
}
STORES_CLOSED_ON = ["Christmas Day"]

PROMOTIONS: list[dict[str, Any]] = [
    {
        "name": "Spring Refresh",
        "start": "03-15",
        "end": "03-24",
        "categories": ["Apparel", "Home & Kitchen", "Garden & Patio"],
        "discount": 0.15,
        "uplift": 1.3,
    },
    {
        "name": "Summer Clearance",
        "start": "07-10",
        "end": "07-21",
        "categories": ["Apparel", "Sports & Outdoors", "Garden & Patio"],
        "discount": 0.25,
        "uplift": 1.4,
    },
    {
        "name": "Holiday Deals",
        "start": "11-20",
        "end": "12-02",
        "categories": ["Electronics", "Toys & Games"],
        "discount": 0.2,
        "uplift": 1.5,
    },
]

BACK_TO_SCHOOL_CATEGORIES = ["Books & Stationery", "Apparel", "Electronics"]
