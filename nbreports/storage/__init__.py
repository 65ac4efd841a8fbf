"""Where everything is kept: the object store (local folder or S3) and the platform database with its migrations."""
