"""``studiobot bench``: the whole path under load, every figure beside a baseline measured in the same run.

Runs from a source checkout: it drives the bot against the fakes in ``tests/fakes``.
"""
