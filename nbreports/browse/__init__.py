"""The read side the UI and ``nbr`` browse: catalog, paged run history, versions, run and version comparisons."""
