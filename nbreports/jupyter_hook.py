"""The name Jupyter's config points at: ``c.FileContentsManager.post_save_hook = "nbreports.jupyter_hook.post_save"``.

It lives in ``nbreports.history.jupyter_hook``; this module keeps the documented path working.
"""

from nbreports.history.jupyter_hook import post_save

__all__ = ["post_save"]
