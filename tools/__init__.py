"""Development tools kept beside the package: the demo county generator (tools/demo)."""
