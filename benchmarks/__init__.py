"""Side-by-side benchmarks against peers (not part of the test suite); see README.md here."""

from healthreach.memory import prefer_small_pages

prefer_small_pages()  # as the command line does, for every benchmark process and the commands they run
