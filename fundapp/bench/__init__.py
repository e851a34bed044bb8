"""A fund at scale for the benchmarks: ``fundapp bench seed`` (see ``fundapp.bench.seed``)."""
