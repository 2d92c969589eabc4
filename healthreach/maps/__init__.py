"""Folium maps of an audit for public hearings: one small function per layer.

Each ``add_*(m, audit, ...)`` function of :mod:`~healthreach.maps.layers`
takes a map made by :func:`~healthreach.maps.base.base_map` (or
:func:`~healthreach.maps.base.new_map`), draws one layer from the audit's own
cell values (see :mod:`healthreach.isochrones`, so the map never disagrees
with the figures) and returns the map. The language, the basemap and the datum
of the overlays travel with the map
(:class:`~healthreach.maps.base.MapSettings`), so the layer functions need
only the map and the audit; ``name`` and ``show`` let two versions of one
layer (before/after a scenario) sit on one map.

The page carries its own Leaflet (inlined from the installed
``xstatic-leaflet`` package, see :mod:`healthreach.maps.assets`): a map renders
with no network, and ``offline=True`` also drops the tiles and checks that
nothing is fetched. Under the Amap basemap (GCJ-02 tiles) every overlay is
shifted into GCJ-02 (:func:`~healthreach.maps.base.to_display`).

Text from the inputs (study, township, facility and scenario names) is
escaped before it reaches the page, and never passes through a template
engine.

The package, by concern: :mod:`~healthreach.maps.base` (the map, its
settings, page, title, controls and rendering), :mod:`~healthreach.maps.legend`
(the legend and its one colour swatch), :mod:`~healthreach.maps.layers` (one
function per layer), :mod:`~healthreach.maps.audit` (the audit map),
:mod:`~healthreach.maps.scenario` (the before/after maps of a scenario),
:mod:`~healthreach.maps.basemaps` (tiles and their datum) and
:mod:`~healthreach.maps.assets` (the page's inlined JavaScript and CSS, the
geometry encoding and the offline check).
"""
