"""Report definitions: the ``report.yaml`` spec, the notebook's parameters and the catalog of report folders."""
