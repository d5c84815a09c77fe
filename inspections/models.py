"""Models of the inspections app (see DESIGN.md §2); filled by its issue."""
