"""The history of report notebooks: content-addressed versions and their save log, backups, the Jupyter save hook."""
