"""Map furniture of a poster: the scale bar's length and the north arrow's direction.

Both are computed from the map's projected CRS (metres), so a poster of a
study in any projected CRS has a true scale bar and an arrow pointing to
true north (grid north differs from it by the meridian convergence).
"""

from __future__ import annotations

import math

from pyproj import Transformer

from healthreach.messages import Message


def scale_bar_m(map_width_m: float, fraction: float = 0.25) -> float:
    """The longest round length (1, 2 or 5 times a power of ten, metres) at most ``fraction`` of the map's width."""
    if not math.isfinite(map_width_m) or map_width_m <= 0:
        msg = Message("the map is {width_m} m wide: a scale bar needs a positive width", width_m=map_width_m)
        raise ValueError(msg)
    limit = map_width_m * fraction
    power = 10 ** math.floor(math.log10(limit))
    return float(max(step * power for step in (1, 2, 5) if step * power <= limit))


def scale_label(length_m: float) -> str:
    """``length_m`` as a scale bar writes it: "500 m", "2 km"."""
    return f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"


def north_angle_deg(crs: str, x: float, y: float) -> float:
    """Clockwise angle (degrees) from the grid's +y axis to true north at ``(x, y)`` (metres in ``crs``).

    0 when grid north is true north; in a transverse Mercator zone it is the
    meridian convergence (a degree or two away from the central meridian).
    """
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    from_lonlat = Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = to_lonlat.transform(x, y)
    nx, ny = from_lonlat.transform(lon, min(lat + 0.01, 89.999))
    return math.degrees(math.atan2(nx - x, ny - y))
