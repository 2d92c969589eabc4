"""Chinese for the messages about inputs: the study file, profile, loaders, CRS, network and grid."""

ZH: dict[str, str] = {
}
