"""Business writes of disclosure, by subject: penalties, listings."""
