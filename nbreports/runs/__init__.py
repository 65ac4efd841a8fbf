"""One report run: its model (``Platform``, ``RunPlan``, states), the prepare → execute → publish steps,
the run cache, scraps and the HTML rendering."""
