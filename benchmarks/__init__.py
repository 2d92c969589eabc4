"""Side-by-side benchmarks against peers (not part of the test suite); see README.md here."""
