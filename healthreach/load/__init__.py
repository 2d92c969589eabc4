"""Readers: every input leaves here validated and in the study's metric CRS."""
