"""One report run, from preparing it to publishing it.

Its model (``Platform``, ``RunPlan``, states), the prepare → execute → publish steps, the run
cache, scraps and the HTML rendering.
"""
