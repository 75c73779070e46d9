"""The rotation report: charts and an offline HTML page read from the published copy.

``queries`` reads the marts into frames, ``charts`` turns frames into PNG charts,
``html`` assembles one self-contained page, ``writer`` ties them together for the CLI
and the Dagster asset, ``docs`` builds the dbt and Great Expectations documentation sites.
"""
