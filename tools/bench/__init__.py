"""Benchmarks: `python -m tools.bench` measures the generator, the models, the LRN and the site.

Importing this package (or ``stats``, ``machine``, ``gen_bench``) never imports torch: the generator is
measured in a subprocess that must finish without torch in ``sys.modules``.
"""
