"""Cache keys hash the content of every file a reader takes: side files, a GeoPackage's write-ahead log, the
files a virtual raster names.
"""

from __future__ import annotations

from healthreach.cache import cache_key, input_files


def test_a_geopackage_edit_still_in_its_write_ahead_log_changes_the_key(tmp_path):
    """SQLite keeps recent edits in ``name.gpkg-wal`` while a program (QGIS) holds the file open."""
    layer = tmp_path / "villages.gpkg"
    layer.write_bytes(b"main database file")
    before = cache_key(layer)
    wal = tmp_path / "villages.gpkg-wal"
    wal.write_bytes(b"an edit not yet checkpointed")
    assert input_files(layer) == [layer, wal]
    with_edit = cache_key(layer)
    assert with_edit != before
    wal.write_bytes(b"another edit")
    assert cache_key(layer) != with_edit


def test_a_virtual_raster_is_hashed_with_the_files_it_names(tmp_path):
    (tmp_path / "sub").mkdir()
    tile = tmp_path / "sub" / "pop.tif"
    tile.write_bytes(b"people")
    mask = tmp_path / "sub" / "pop.tif.msk"
    mask.write_bytes(b"mask")
    other = tmp_path / "other.vrt"  # a virtual raster naming another, which names the first (a loop)
    vrt = tmp_path / "population.vrt"
    vrt.write_text(f"""<VRTDataset rasterXSize="2" rasterYSize="2"><VRTRasterBand dataType="Float32" band="1">
      <SimpleSource><SourceFilename relativeToVRT="1">sub/pop.tif</SourceFilename></SimpleSource>
      <SimpleSource><SourceFilename relativeToVRT="0">{other}</SourceFilename></SimpleSource>
    </VRTRasterBand></VRTDataset>""")
    other.write_text(f"""<VRTDataset><VRTRasterBand><SimpleSource>
      <SourceFilename relativeToVRT="0">{vrt}</SourceFilename></SimpleSource></VRTRasterBand></VRTDataset>""")
    assert input_files(vrt) == [vrt, tmp_path / "sub" / "pop.tif", mask, other]
    before = cache_key(vrt)
    tile.write_bytes(b"twice the people")  # the virtual raster's own bytes are unchanged
    assert cache_key(vrt) != before


def test_a_virtual_raster_that_cannot_be_parsed_is_hashed_alone(tmp_path):
    vrt = tmp_path / "broken.vrt"
    vrt.write_text("<VRTDataset")
    assert input_files(vrt) == [vrt]
