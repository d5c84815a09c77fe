"""Models of the disclosure app (see DESIGN.md §2); filled by its issue."""
