"""Scenarios: planned changes to the facility table, evaluated against the baseline.

A scenario file names its base study and lists changes, applied in order:

``add``        a new facility (id, name, type, site, beds, ambulances, emergency)
``relocate``   an existing facility to a new site (迁建), optionally with new beds/ambulances
``close``      an existing facility, optionally merged ``into`` another one (宜并则并)
``upgrade``    a new type and/or emergency capability (e.g. a regional sub-centre)
``expand``     new numbers of beds and/or ambulances (改扩建)

Everything is checked before any work: unknown ids (with the closest ids and
names), sites outside the study area or far from any road, lon/lat that look
swapped, changes that contradict each other. All problems are reported in one
:class:`~healthreach.errors.ScenarioError`.

A scenario is evaluated as an audit of the changed facility table, so every
figure comes from the same code as the baseline's; its travel surfaces are
repaired incrementally from the baseline's (:mod:`healthreach.incremental`).
The diff holds, per standard and per township, the baseline, the scenario and
the change; the people newly covered and those who lose coverage; and, per
facility, the catchment before and after.

Facility rows: the changed table keeps every baseline row in place. A closed
facility keeps its row with type ``closed`` (a member of no group), no beds and
no ambulances; added facilities are appended in the order they are added.

The package, by concern: :mod:`~healthreach.scenario.schema` (the file
format), :mod:`~healthreach.scenario.checks` (against the study),
:mod:`~healthreach.scenario.sites` (locating new sites),
:mod:`~healthreach.scenario.apply` (the changed facility table),
the evaluation and its diff live in :mod:`healthreach.evaluation` and :mod:`healthreach.diff`,
:mod:`~healthreach.scenario.outputs` (the files written) and
:mod:`~healthreach.scenario.compare` (several scenarios side by side).
"""
