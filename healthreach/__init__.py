"""healthreach: test health-plan access targets on the real road network."""

__version__ = "0.1.0"
