"""The standards benchmark's PySAL comparison runs: both sides give the same E2SFCA values on the demo's table."""

from __future__ import annotations

import numpy as np

from benchmarks import bench_standards
from healthreach.standards.e2sfca import E2sfca


def test_the_e2sfca_peer_case_builds_and_both_sides_agree(demo_audit):
    unit = next(u for u in bench_standards.units(demo_audit.study, E2sfca) if u.spec.resource == "beds")
    ours, peer = bench_standards.pysal_case(demo_audit, unit)  # checks the two equal to 1e-9 before returning
    values = ours()
    reference = peer()
    assert len(reference) > 0
    assert np.isfinite(values).all()
    assert values.max() > 0
