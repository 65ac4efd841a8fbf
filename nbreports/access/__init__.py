"""Who may do what to which report: the admins' teams file, the reports' grants, one pure decision.

Nothing here imports the catalog at module level, so ``reports/spec.py`` can use the grant model.
"""
