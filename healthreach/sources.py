"""How outputs name a study's inputs: a file, a package extract, a download, administrative codes, census totals.

Map titles, ``summary.json``, ``comparison.json`` and the batch summary all
name the inputs through :func:`describe_input`, so an input that is not a
file (roads downloaded by place name, boundaries by administrative code,
people spread from census totals) is named for what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from healthreach.i18n import t
from healthreach.study import (
    BoundariesSpec,
    FacilitiesSpec,
    PopulationSpec,
    RoadsSpec,
    StudyFile,
    VillagesSpec,
)

INPUT_ROLES = ("roads", "facilities", "population", "boundaries", "villages")


@dataclass(frozen=True)
class InputSource:
    """One input as outputs name it.

    ``kind`` is ``file`` (``name``: the file name), ``package`` (an extract
    installed with a Python package, ``name``: ``pkg:MODULE/FILE``),
    ``download`` (OpenStreetMap, ``name``: the place, or ``boundary``),
    ``admin_code`` (``name``: the codes, comma-separated) or ``census``
    (people spread from the boundaries' census totals, no file). ``notes``
    say how the input was used (how people were spread; rescaled to census
    totals; OpenStreetMap health tags; a table of classes and totals).
    """

    role: str
    kind: str
    name: str
    notes: tuple[str, ...] = ()
    note_args: tuple[tuple[str, str], ...] = ()

    def text(self, lang: str = "en") -> str:
        """The input in one short phrase, e.g. ``roads.gpkg``, ``admin codes 500103, 500106``."""
        if self.kind == "download":
            main = t("src_download_boundary" if self.name == "boundary" else "src_download", lang, place=self.name)
        elif self.kind == "admin_code":
            main = t("src_admin_code", lang, codes=self.name)
        elif self.kind == "census":
            main = t("src_census", lang)
        else:
            main = self.name
        if self.notes:
            sep = "；" if lang == "zh" else "; "
            main += t("src_note", lang, note=sep.join(t(f"src_note_{n}", lang, **dict(self.note_args))
                                                      for n in self.notes))
        return main

    def as_dict(self) -> dict[str, str]:
        """For JSON outputs: kind, name, what it means in words."""
        return {"kind": self.kind, "name": self.name, "text": self.text("en")}


def given_path(study: StudyFile, role: str) -> str | None:
    """The input's path as the study file wrote it (``pkg:pyrosm/test_pbf`` stays so), or None."""
    spec = getattr(study, role, None)
    if spec is None or getattr(spec, "path", None) is None:
        return None
    return study.given_paths.get(role, str(spec.path))


def _file(study: StudyFile, role: str) -> tuple[str, str]:
    """(kind, name) of a path input: ``package`` for ``pkg:`` extracts, else ``file`` with the file name."""
    given = given_path(study, role) or ""
    if given.startswith("pkg:"):
        return "package", given
    return "file", getattr(study, role).path.name


def describe_input(study: StudyFile, role: str) -> InputSource | None:
    """How outputs name the study's ``role`` input (roads, facilities, population, boundaries, villages).

    None for an optional input the study does not have (villages).
    """
    spec = getattr(study, role, None)
    if spec is None:
        return None
    if role == "roads" and spec.source is not None:
        return InputSource(role, "download", spec.source)
    if role == "boundaries" and spec.admin_code is not None:
        table = spec.admin_table.name if spec.admin_table is not None else ""
        return InputSource(role, "admin_code", ", ".join(spec.admin_codes),
                           ("table",) if table else (), (("table", table),) if table else ())
    if role == "population":
        return _population_source(study, spec)
    return _file_source(study, role, spec)


def _population_source(study: StudyFile, spec: PopulationSpec) -> InputSource:
    """How outputs name the population input: census totals alone, or its file with how it is spread."""
    if spec.path is None:
        return InputSource("population", "census", "census totals", (f"spread_{spec.spread}",))
    from healthreach.load.population import is_polygon_source

    kind, name = _file(study, "population")
    notes: tuple[str, ...] = (f"spread_{spec.spread}",) if is_polygon_source(spec.path) else ()
    notes += ("rescaled",) if spec.rescale_to_census else ()
    return InputSource("population", kind, name, notes)


def _file_source(study: StudyFile, role: str,
                 spec: RoadsSpec | FacilitiesSpec | BoundariesSpec | VillagesSpec) -> InputSource:
    """How outputs name an input read from a file; OSM facilities note that health tags select them."""
    kind, name = _file(study, role)
    if isinstance(spec, FacilitiesSpec):
        from healthreach.load import osm

        if osm.is_pbf(spec.path) or osm.is_osm_xml(spec.path):
            return InputSource(role, kind, name, ("osm_tags",))
    return InputSource(role, kind, name)


def describe_inputs(study: StudyFile) -> dict[str, InputSource]:
    """:func:`describe_input` of every input the study has, by role; each population group's layer as
    ``population_groups.<key>`` (its file name).
    """
    out = {}
    for role in INPUT_ROLES:
        source = describe_input(study, role)
        if source is not None:
            out[role] = source
    for key, spec in study.population_groups.items():
        role = f"population_groups.{key}"
        out[role] = InputSource(role, "file", spec.path.name)
    return out


def sources_line(study: StudyFile, lang: str = "en") -> str:
    """The four main inputs in one line for a map title: ``roads roads.gpkg · facilities ...``."""
    main = (describe_input(study, role) for role in ("roads", "facilities", "population", "boundaries"))
    return " · ".join(f"{t('src_' + source.role, lang)} {source.text(lang)}" for source in main if source is not None)
