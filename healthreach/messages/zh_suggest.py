"""Chinese for the messages of site suggestion: candidates, coverage, the search and its options."""

ZH: dict[str, str] = {
}
