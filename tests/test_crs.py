"""Tests for healthreach.crs: facts about the datums, not snapshots."""

import numpy as np
import pyproj
import pytest

from healthreach import crs
from healthreach.errors import CRSError, HealthreachError

GEOD = pyproj.Geod(ellps="WGS84")
TIANANMEN_WGS = (116.397128, 39.916527)
HELSINKI = (24.94, 60.17)

# Public test vectors of the eviltransform project (WGS84 lon, lat -> GCJ-02).
EVIL_VECTORS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]

CONVERSIONS = [crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.gcj02_to_bd09,
               crs.bd09_to_gcj02, crs.wgs84_to_bd09, crs.bd09_to_wgs84]


def metres(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(lon1, lat1, lon2, lat2)
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def china_grid(n=10_000, seed=20240501):
    rng = np.random.default_rng(seed)
    return rng.uniform(73.5, 135.0, n), rng.uniform(18.0, 53.5, n)


@pytest.mark.parametrize(("wgs", "gcj"), EVIL_VECTORS)
def test_wgs84_to_gcj02_matches_published_vectors(wgs, gcj):
    lon, lat = crs.wgs84_to_gcj02(*wgs)
    assert lon == pytest.approx(gcj[0], abs=1e-7)
    assert lat == pytest.approx(gcj[1], abs=1e-7)
    back = crs.gcj02_to_wgs84(*gcj)
    assert metres(*back, *wgs) < 0.01


def test_tiananmen_gcj_shift_is_a_few_hundred_metres_north_east():
    glon, glat = crs.wgs84_to_gcj02(*TIANANMEN_WGS)
    shift = metres(*TIANANMEN_WGS, glon, glat)
    assert 100.0 < shift < 700.0
    # In Beijing GCJ-02 is displaced to the east and (less) to the north.
    assert glon - TIANANMEN_WGS[0] > 0.003
    assert 0.0 < glat - TIANANMEN_WGS[1] < glon - TIANANMEN_WGS[0]


def test_bd09_is_further_offset_from_gcj02():
    glon, glat = crs.wgs84_to_gcj02(*TIANANMEN_WGS)
    blon, blat = crs.wgs84_to_bd09(*TIANANMEN_WGS)
    assert metres(*TIANANMEN_WGS, blon, blat) > metres(*TIANANMEN_WGS, glon, glat) + 300
    # BD-09 adds roughly +0.0065 deg lon and +0.006 deg lat to GCJ-02.
    assert blon - glon == pytest.approx(0.0065, abs=5e-4)
    assert blat - glat == pytest.approx(0.006, abs=5e-4)
    # Published output of the standard formula (wandergis/coordtransform).
    lon, lat = crs.gcj02_to_bd09(116.404, 39.915)
    assert lon == pytest.approx(116.41036949371029, abs=1e-9)
    assert lat == pytest.approx(39.92133699351021, abs=1e-9)


def test_round_trips_across_china_are_sub_centimetre():
    lon, lat = china_grid()
    for fwd, inv in [(crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
                     (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
                     (crs.gcj02_to_bd09, crs.bd09_to_gcj02)]:
        back = inv(*fwd(lon, lat))
        assert np.max(metres(lon, lat, *back)) < 0.01, fwd.__name__
    # and from the other side: the obfuscated input is reproduced
    again = crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(lon, lat))
    assert np.max(metres(lon, lat, *again)) < 0.01


def test_offsets_across_china_are_plausible():
    lon, lat = china_grid(2000, seed=1)
    shift = metres(lon, lat, *crs.wgs84_to_gcj02(lon, lat))
    assert shift.min() > 1.0
    assert shift.max() < 1500.0
    assert np.all(crs.out_of_china(lon, lat) == False)  # noqa: E712


@pytest.mark.parametrize("point", [HELSINKI, (-74.0, 40.7), (151.2, -33.87),
                                   (-0.13, 51.5), (140.5, 36.0)])
@pytest.mark.parametrize("func", CONVERSIONS)
def test_points_outside_china_are_unchanged(point, func):
    assert crs.out_of_china(*point)
    lon, lat = func(*point)
    assert (float(lon), float(lat)) == point


@pytest.mark.parametrize("system", ["gcj02", "bd09", "wgs84", "cgcs2000"])
def test_named_systems_leave_outside_points_unchanged(system):
    for f in (crs.to_wgs84, crs.from_wgs84):
        lon, lat = f(*HELSINKI, system)
        assert (float(lon), float(lat)) == HELSINKI


def test_out_of_china_box_edges():
    assert not crs.out_of_china(107.76, 29.32)
    assert crs.out_of_china(72.0, 40.0)
    assert crs.out_of_china(138.0, 40.0)
    assert crs.out_of_china(100.0, 0.5)
    assert crs.out_of_china(100.0, 56.0)


def test_shapes_dtype_and_no_mutation():
    lon = np.array([[107.76, 24.94], [114.3, 116.4]])
    lat = np.array([[29.32, 60.17], [30.6, 39.9]])
    lon0, lat0 = lon.copy(), lat.copy()
    for func in CONVERSIONS:
        x, y = func(lon, lat)
        assert x.shape == y.shape == (2, 2)
        assert x.dtype == y.dtype == np.float64
    np.testing.assert_array_equal(lon, lon0)
    np.testing.assert_array_equal(lat, lat0)
    x, y = crs.wgs84_to_gcj02(107.76, 29.32)
    assert np.shape(x) == ()
    assert isinstance(float(x), float)
    x, y = crs.wgs84_to_gcj02([107.76, 114.3], 30.0)  # broadcasting
    assert x.shape == y.shape == (2,)
    x, y = crs.gcj02_to_wgs84(np.array([]), np.array([]))
    assert x.shape == (0,)


def test_nan_propagates_without_breaking_others():
    x, y = crs.gcj02_to_wgs84([np.nan, 116.4], [np.nan, 39.9])
    assert np.isnan(x[0])
    assert np.isnan(y[0])
    assert metres(x[1], y[1], *crs.gcj02_to_wgs84(116.4, 39.9)) < 1e-6


@pytest.mark.parametrize(("name", "lon", "lat", "epsg"), [
    ("Wulong", 107.76, 29.32, 4545),
    ("Wuhan", 114.3, 30.6, 4547),
    ("Kashgar", 75.99, 39.47, 4534),
    ("Fuyuan", 134.3, 48.4, 4554),
    ("Helsinki", 24.94, 60.17, 32635),
    ("Santiago", -70.6, -33.4, 32719),
])
def test_local_metric_crs(name, lon, lat, epsg):
    c = crs.local_metric_crs(lon, lat)
    assert isinstance(c, pyproj.CRS)
    assert c.to_epsg() == epsg, name
    assert c.is_projected
    assert c.axis_info[0].unit_name == "metre"


@pytest.mark.parametrize(("lon", "lat"), [(200.0, 30.0), (107.0, 95.0),
                                     (float("nan"), 30.0), ("abc", 30.0),
                                     (None, 30.0), (500000.0, 3250000.0),
                                     (10.0, 88.0)])
def test_local_metric_crs_rejects_bad_input(lon, lat):
    with pytest.raises(CRSError):
        crs.local_metric_crs(lon, lat)


def test_gauss_kruger_projection_round_trips_via_to_wgs84():
    lon, lat = china_grid(1000, seed=7)
    lon = 108.0 + (lon - lon.mean()) / 40.0  # within the CM 108E zone
    x, y = crs.from_wgs84(lon, lat, "EPSG:4545")
    assert x.shape == lon.shape
    assert np.all(np.abs(x - 500_000.0) < 170_000.0)
    back = crs.to_wgs84(x, y, "epsg:4545")
    assert np.max(metres(lon, lat, *back)) < 1e-3
    # on the central meridian the easting is the 500 km false easting
    x0, y0 = crs.from_wgs84(108.0, 29.32, 4545)
    assert float(x0) == pytest.approx(500_000.0, abs=1e-3)
    assert 3.2e6 < float(y0) < 3.3e6  # ~29.3 degrees north of the equator


def test_named_systems_case_insensitive_and_aliases():
    ref = crs.gcj02_to_wgs84(*TIANANMEN_WGS)
    for name in ["gcj02", "GCJ-02", "Amap", "gaode", "TENCENT", " gcj02 "]:
        np.testing.assert_array_equal(crs.to_wgs84(*TIANANMEN_WGS, name), ref)
    ref = crs.bd09_to_wgs84(*TIANANMEN_WGS)
    for name in ["bd09", "BD-09", "Baidu"]:
        np.testing.assert_array_equal(crs.to_wgs84(*TIANANMEN_WGS, name), ref)
    for name in ["wgs84", "WGS84", "cgcs2000", "EPSG:4326"]:
        lon, lat = crs.to_wgs84(*TIANANMEN_WGS, name)
        assert metres(lon, lat, *TIANANMEN_WGS) < 1e-6
    lon, lat = crs.from_wgs84(*TIANANMEN_WGS, "amap")
    assert (float(lon), float(lat)) == tuple(map(float, crs.wgs84_to_gcj02(*TIANANMEN_WGS)))


def test_unknown_system_lists_accepted_names():
    with pytest.raises(CRSError) as info:
        crs.to_wgs84(116.4, 39.9, "mars-grid-7")
    msg = str(info.value)
    for name in ("wgs84", "gcj02", "bd09", "cgcs2000", "EPSG"):
        assert name in msg
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, HealthreachError)
    with pytest.raises(CRSError):
        crs.from_wgs84(116.4, 39.9, "nonsense")


def test_parse_crs():
    assert crs.parse_crs("EPSG:4545", "x").to_epsg() == 4545
    assert crs.parse_crs(4547, "x").to_epsg() == 4547
    assert crs.parse_crs("wgs84", "x").to_epsg() == 4326
    assert crs.parse_crs("CGCS2000", "x").to_epsg() == 4490
    c = pyproj.CRS.from_epsg(32635)
    assert crs.parse_crs(c, "x") is c
    for bad in ["EPSG:99999999", "not a crs", True, 3.5, None, "gcj02"]:
        with pytest.raises(CRSError) as info:
            crs.parse_crs(bad, "study.yaml: facilities.crs")
        assert "study.yaml: facilities.crs" in str(info.value)
        assert repr(bad) in str(info.value)


def test_is_geographic():
    assert crs.is_geographic("EPSG:4326")
    assert crs.is_geographic(4490)
    assert not crs.is_geographic("EPSG:4545")
    assert not crs.is_geographic(crs.local_metric_crs(*HELSINKI))
