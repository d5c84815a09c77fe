"""Admin of disclosure: penalties, the abnormal and serious lists, restrictions, policies."""

from disclosure import admin_listings, admin_penalties  # noqa: F401 - registers the model admins
