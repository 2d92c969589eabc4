"""``python -m tools.demo``: generate the synthetic demo county (see :mod:`tools.demo.generate`)."""

from tools.demo.generate import main

main()
