"""One module per group of landing sources; each builds `base.Source` objects from the world."""
