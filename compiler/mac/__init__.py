"""The MAC companion: approximate and alphabet-set multipliers and MAC arrays as units.

``families/`` holds one module per multiplier family and the registry ``FAMILIES``;
``ir.py`` the ``Multiplier`` (a family at operand widths) and the ``MacUnit`` (N lanes, an
optional accumulator); ``evaluate.py`` the meaning of a MAC unit; ``metrics.py`` the error
metrics (EvoApproxLib conventions); ``api.py`` compile, import, encode.
"""
