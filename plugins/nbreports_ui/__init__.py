"""The nbreports pages and JSON API inside the Airflow UI (mounted by ``nbreports_plugin``).

Everything the pages show comes from ``nbreports.browse.queries`` (platform database) and the store;
this package only adds HTTP, authentication and presentation.
"""
