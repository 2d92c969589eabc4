"""The printed poster of an audit or a scenario: landscape A3 or A4, PDF and PNG, drawn with matplotlib.

By concern: :mod:`~healthreach.poster.poster` (the page: title, map panel,
key figures, legend, footer; :func:`~healthreach.poster.poster.audit_poster`
and :func:`~healthreach.poster.poster.scenario_poster`),
:mod:`~healthreach.poster.fonts` (a CJK font, checked glyph by glyph),
:mod:`~healthreach.poster.furniture` (scale bar and north arrow) and
:mod:`~healthreach.poster.shapes` (shapely geometries as matplotlib artists).
"""
