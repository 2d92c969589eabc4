"""Each command's --help ends with examples, and every example is a valid command line."""

from __future__ import annotations

import shlex

import pytest
from click.testing import CliRunner

from healthreach.cli import cli
from healthreach.cli.examples import EXAMPLES


@pytest.mark.parametrize("command", ["audit", "scenario", "compare", "batch"])
def test_help_ends_with_examples_that_parse(command):
    result = CliRunner().invoke(cli, [command, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    lines = result.output.rstrip().splitlines()
    examples = lines[[line.strip() for line in lines].index("Examples:") + 1:]
    assert 2 <= len(examples) <= 3
    assert [line.strip() for line in examples] == list(EXAMPLES[command])  # kept as written, not rewrapped
    for line in examples:
        words = shlex.split(line, comments=True)
        assert words[:2] == ["healthreach", command]
        # every option and argument of the example is one the command accepts
        context = cli.commands[command].make_context(command, words[2:], resilient_parsing=False)
        assert context.params is not None
