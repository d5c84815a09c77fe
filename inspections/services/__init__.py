"""Business writes of the inspections app: plans and their scope (plans), verifiable draws (draws), results, case
leads and abnormal-list proposals (results), roster and item-list imports (imports)."""
