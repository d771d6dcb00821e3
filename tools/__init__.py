"""Project tooling: the generator, its templates, the MkDocs hook and the benchmarks."""
