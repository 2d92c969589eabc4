"""Coordinate systems used for Chinese facility data, and the analysis CRS.

Chinese web maps publish coordinates in obfuscated datums: GCJ-02 ("Mars
coordinates": Amap/Gaode, Tencent) and BD-09 (Baidu, a further offset of
GCJ-02). Both shift points by a few hundred metres relative to WGS84 and are
not pyproj CRSs, so they are converted here with the public algorithm.
The offset is applied only inside a coarse bounding box of China
(:func:`out_of_china`); points outside it are returned unchanged.

All longitudes/latitudes are in degrees, in (lon, lat) order; projected
coordinates are in metres, in (easting, northing) order. Functions accept
scalars or arrays and return float64 arrays broadcast to the inputs' shape.
CGCS2000 (EPSG:4490) is treated as identical to WGS84 (they differ by
centimetres).
"""

from __future__ import annotations

import math

import numpy as np
import pyproj

from healthreach.errors import CRSError
from healthreach.messages import Message

_A = 6378245.0  # Krasovsky 1940 semi-major axis (m)
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_TOL_DEG = 1e-9  # inverse iterations stop when the max change is below this
_MAX_ITER = 30

_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs_84": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj_02": "gcj02",
    "amap": "gcj02", "gaode": "gcj02", "tencent": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "bd_09": "bd09", "baidu": "bd09",
    "cgcs2000": "cgcs2000",
}
ACCEPTED = ("wgs84, gcj02 (aliases gcj-02, amap, gaode, tencent), "
            "bd09 (aliases bd-09, baidu), cgcs2000, or a pyproj-readable CRS "
            "such as 'EPSG:4545' or an EPSG integer")


def _xy(lon, lat):
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64),
                                   np.asarray(lat, dtype=np.float64))
    return lon.copy(), lat.copy()


def out_of_china(lon, lat):
    """True where (lon, lat) in degrees lies outside China's bounding box.

    The box (lon 72.004-137.8347, lat 0.8293-55.8271) is the coarse test of
    the public GCJ-02 algorithm; it also covers some neighbouring countries.
    """
    lon, lat = _xy(lon, lat)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_offset(lon, lat):
    """GCJ-02 minus WGS84 offset (degrees) at WGS84 (lon, lat), no box test."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
            + 0.2 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
            + 0.1 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _bd_forward(lon, lat):
    """BD-09 of GCJ-02 (lon, lat) in degrees, no box test."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon, lat, lon0, lat0):
    """Solve forward(x) = (lon, lat) by fixed-point iteration from (lon0, lat0)."""
    x, y = lon0, lat0
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if not (np.any(np.abs(dx) > _TOL_DEG) or np.any(np.abs(dy) > _TOL_DEG)):
            break
    return x, y


def looks_swapped(lon, lat):
    """True where degrees (lon, lat) are out of range, or look like a Chinese pair given the wrong way
    round (a longitude of 73..136 in the latitude, a latitude of 17..54 in the longitude).
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    out_of_range = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    return out_of_range | ((lon > 17) & (lon < 54) & (lat > 73) & (lat < 136))


def wgs84_to_gcj02(lon, lat):
    """WGS84 (lon, lat) degrees -> GCJ-02 (lon, lat) degrees."""
    lon, lat = _xy(lon, lat)
    inside = ~out_of_china(lon, lat)
    dlon, dlat = _gcj_offset(lon[inside], lat[inside])
    lon[inside] += dlon
    lat[inside] += dlat
    return lon, lat


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 (lon, lat) degrees -> WGS84 (lon, lat) degrees.

    Exact inverse of :func:`wgs84_to_gcj02` by fixed-point iteration
    (residual well below 1 cm); points outside China are unchanged.
    """
    lon, lat = _xy(lon, lat)
    inside = ~out_of_china(lon, lat)
    gx, gy = lon[inside], lat[inside]

    def forward(x, y):
        dx, dy = _gcj_offset(x, y)
        return x + dx, y + dy

    lon[inside], lat[inside] = _invert(forward, gx, gy, gx, gy)
    return lon, lat


def gcj02_to_bd09(lon, lat):
    """GCJ-02 (lon, lat) degrees -> BD-09 (lon, lat) degrees."""
    lon, lat = _xy(lon, lat)
    inside = ~out_of_china(lon, lat)
    lon[inside], lat[inside] = _bd_forward(lon[inside], lat[inside])
    return lon, lat


def bd09_to_gcj02(lon, lat):
    """BD-09 (lon, lat) degrees -> GCJ-02 (lon, lat) degrees.

    Starts from the usual closed-form approximation and refines it into the
    exact inverse of :func:`gcj02_to_bd09`; points outside China unchanged.
    """
    lon, lat = _xy(lon, lat)
    inside = ~out_of_china(lon, lat)
    bx, by = lon[inside], lat[inside]
    x, y = bx - 0.0065, by - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    lon[inside], lat[inside] = _invert(_bd_forward, bx, by,
                                       z * np.cos(theta), z * np.sin(theta))
    return lon, lat


def wgs84_to_bd09(lon, lat):
    """WGS84 (lon, lat) degrees -> BD-09 (lon, lat) degrees."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 (lon, lat) degrees -> WGS84 (lon, lat) degrees."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def parse_crs(value, where: str) -> pyproj.CRS:
    """Turn a user CRS value ('EPSG:4545', 4545, WKT, PROJ string, CRS) into a
    :class:`pyproj.CRS`; raise :class:`CRSError` naming ``where`` otherwise.
    """
    if isinstance(value, pyproj.CRS):
        return value
    name = _ALIASES.get(value.strip().lower()) if isinstance(value, str) else None
    if name in ("wgs84", "cgcs2000"):
        return pyproj.CRS.from_epsg(4326 if name == "wgs84" else 4490)
    if name is not None:
        msg = Message("{where}: {value!r} is an offset Chinese web-map datum, not a projection CRS; convert it "
                      "with to_wgs84() first", where=where, value=value)
        raise CRSError(msg)
    if isinstance(value, (bool, float)) or not isinstance(value, (str, int)):
        msg = Message("{where}: CRS must be a string or EPSG integer, got {type} {value!r}; accepted: {accepted}",
                      where=where, type=type(value).__name__, value=value, accepted=ACCEPTED)
        raise CRSError(msg)
    try:
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError as exc:
        msg = Message("{where}: unknown CRS {value!r} ({reason}); accepted: {accepted}", where=where, value=value,
                      reason=str(exc), accepted=ACCEPTED)
        raise CRSError(msg) from None


def is_geographic(crs) -> bool:
    """True if ``crs`` (anything :func:`parse_crs` accepts) uses degrees."""
    return parse_crs(crs, "is_geographic").is_geographic


def datum_name(system: str) -> str | None:
    """'wgs84', 'gcj02', 'bd09' or 'cgcs2000' for a name or alias of one (``amap``, ``baidu``, ...), else None."""
    return _ALIASES.get(system.strip().lower())


def _system(system):
    """Canonical name ('wgs84', 'gcj02', 'bd09', 'cgcs2000') or pyproj.CRS."""
    if isinstance(system, str) and system.strip().lower() in _ALIASES:
        return _ALIASES[system.strip().lower()]
    crs = parse_crs(system, "coordinate system")
    return "wgs84" if crs.equals(pyproj.CRS.from_epsg(4326)) else crs


def _pyproj_transform(src, dst, lon, lat, name):
    x, y = _xy(lon, lat)
    tf = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    ox, oy = tf.transform(x.ravel(), y.ravel())
    ox = np.asarray(ox, dtype=np.float64).reshape(x.shape)
    oy = np.asarray(oy, dtype=np.float64).reshape(y.shape)
    bad = np.isfinite(x) & np.isfinite(y) & ~(np.isfinite(ox) & np.isfinite(oy))
    if bad.any():
        msg = Message("{n} point(s) could not be transformed with {name}; check the CRS and the x/y (lon/lat) order",
                      n=int(bad.sum()), name=name)
        raise CRSError(msg)
    return ox, oy


def to_wgs84(lon, lat, system):
    """Convert coordinates in ``system`` to WGS84 (lon, lat) degrees.

    ``system`` is a case-insensitive name (wgs84, gcj02, bd09, cgcs2000 and
    aliases) or any pyproj CRS (e.g. 'EPSG:4545', x/y in metres).
    """
    s = _system(system)
    if s in ("wgs84", "cgcs2000"):
        return _xy(lon, lat)
    if s == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if s == "bd09":
        return bd09_to_wgs84(lon, lat)
    return _pyproj_transform(s, "EPSG:4326", lon, lat, f"{system!r}")


def from_wgs84(lon, lat, system):
    """Convert WGS84 (lon, lat) degrees to ``system`` (see :func:`to_wgs84`)."""
    s = _system(system)
    if s in ("wgs84", "cgcs2000"):
        return _xy(lon, lat)
    if s == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if s == "bd09":
        return wgs84_to_bd09(lon, lat)
    return _pyproj_transform("EPSG:4326", s, lon, lat, f"{system!r}")


def local_metric_crs(lon, lat) -> pyproj.CRS:
    """Metric (metres) analysis CRS for a study centred at (lon, lat) degrees.

    Inside China: CGCS2000 3-degree Gauss-Krueger zone without zone prefix,
    EPSG:4534 (CM 75E) to EPSG:4554 (CM 135E), nearest central meridian.
    Elsewhere: WGS84 UTM zone, EPSG:326zz (north) or EPSG:327zz (south).
    """
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        msg = Message("study centre must be two numbers in degrees, got lon={lon!r}, lat={lat!r}", lon=lon, lat=lat)
        raise CRSError(msg) from None
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0
            and math.isfinite(lat) and -90.0 <= lat <= 90.0):
        msg = Message("study centre lon={lon}, lat={lat} is not a valid WGS84 position (lon -180..180, lat -90..90 "
                      "degrees); are lon and lat swapped or projected?", lon=lon, lat=lat)
        raise CRSError(msg)
    if abs(lat) > 84.0:
        msg = Message("study centre lat={lat} is polar; no UTM/Gauss-Krueger zone applies beyond 84 degrees", lat=lat)
        raise CRSError(msg)
    if not out_of_china(lon, lat):
        cm = min(135, max(75, 3 * math.floor(lon / 3.0 + 0.5)))
        return pyproj.CRS.from_epsg(4534 + (cm - 75) // 3)
    zone = min(60, math.floor((lon + 180.0) / 6.0) + 1)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


_AREA_MARGIN_DEG = 10.0  # how far (degrees) beyond a CRS's area of use coordinates may lie before they are refused


def crs_mismatch(crs, bounds) -> str | None:
    """Why coordinates spanning ``bounds`` (xmin, ymin, xmax, ymax) cannot be in ``crs``, or None if they fit.

    Three signs, read from the range of the coordinates: values beyond
    ±180/±90 in a geographic (degree) CRS are metres; a projected (metre)
    layer whose every coordinate lies within ±180/±90 holds degrees; and
    coordinates that convert to a place more than 10 degrees beyond the
    CRS's area of use were written in another CRS (a wrong zone or datum).
    """
    if hasattr(crs, "to_wkt") and not isinstance(crs, pyproj.CRS):  # e.g. a rasterio CRS
        crs = crs.to_wkt()
    crs = parse_crs(crs, "coordinate system")
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    box = (xmin, ymin, xmax, ymax)
    if not all(math.isfinite(v) for v in box):
        return None
    span = f"x {xmin:,.6g} to {xmax:,.6g}, y {ymin:,.6g} to {ymax:,.6g}"
    name = crs.to_string() if len(crs.to_string()) <= 40 else crs.name
    return _unit_mismatch(crs, name, span, box) or _area_mismatch(crs, name, span, box)


def _unit_mismatch(crs: pyproj.CRS, name: str, span: str, bounds: tuple[float, float, float, float]) -> str | None:
    """Why finite ``bounds`` are metres in a degree CRS or degrees in a metre CRS, or None if the units fit."""
    xmin, ymin, xmax, ymax = bounds
    degree_like = xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90
    if crs.is_geographic and not degree_like:
        return (f"it declares {name} (degrees) but its coordinates ({span}) are not longitudes/latitudes; "
                f"they look like metres of a projected CRS: set the file's real CRS")
    if not crs.is_geographic and degree_like:
        return (f"it declares {name} (metres) but its coordinates ({span}) all lie within ±180/±90, like "
                f"longitudes/latitudes in degrees: set the file's CRS to EPSG:4326 (or its real CRS)")
    return None


def _area_mismatch(crs: pyproj.CRS, name: str, span: str, bounds: tuple[float, float, float, float]) -> str | None:
    """Why finite ``bounds`` lie more than 10 degrees beyond ``crs``'s area of use, or None if they are near it."""
    area = crs.area_of_use
    if area is None:
        return None
    xmin, ymin, xmax, ymax = bounds
    try:
        with np.errstate(all="ignore"):
            xs = np.array([xmin, xmax, xmin, xmax, (xmin + xmax) / 2])
            ys = np.array([ymin, ymin, ymax, ymax, (ymin + ymax) / 2])
            lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(xs, ys)
    except pyproj.exceptions.ProjError:
        return None
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return (f"its coordinates ({span}) do not convert from the declared {name} to any place on Earth; "
                f"set the file's real CRS")
    lon, lat = np.asarray(lon)[ok], np.asarray(lat)[ok]
    off_lon = np.maximum(area.west - lon, 0) + np.maximum(lon - area.east, 0)
    off_lat = np.maximum(area.south - lat, 0) + np.maximum(lat - area.north, 0)
    if area.west > area.east:  # an area of use across the antimeridian: leave it to the other checks
        off_lon = np.zeros_like(off_lon)
    if float(np.max(np.hypot(off_lon, off_lat))) > _AREA_MARGIN_DEG:
        return (f"its coordinates ({span}) in the declared {name} lie at about lon {float(np.median(lon)):.2f}, "
                f"lat {float(np.median(lat)):.2f}, far outside where that CRS applies ({area.name}: lon "
                f"{area.west:g} to {area.east:g}, lat {area.south:g} to {area.north:g}); set the file's real CRS")
    return None
