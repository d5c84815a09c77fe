"""Models of the repair app (see DESIGN.md §2); filled by its issue."""
