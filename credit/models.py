"""Models of the credit app (see DESIGN.md §2); filled by its issue."""
