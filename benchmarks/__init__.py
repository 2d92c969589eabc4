"""Side-by-side benchmarks against peers (not part of the test suite); see README.md here."""

import os

from healthreach.memory import HUGEPAGE_ENV, prefer_small_pages

# the user's own choice, before the line below: a command run as a user runs it gets this, not ours
USER_HUGEPAGE = os.environ.get(HUGEPAGE_ENV)
prefer_small_pages()  # as the command line does, for the engine and its peers measured in this process


def user_environment(**extra: str) -> dict[str, str]:
    """The environment a user's own shell would give a command (numpy's page setting left to the command), with
    ``extra`` set.
    """
    env = {k: v for k, v in os.environ.items() if k != HUGEPAGE_ENV}
    if USER_HUGEPAGE is not None:
        env[HUGEPAGE_ENV] = USER_HUGEPAGE
    return {**env, **extra}
