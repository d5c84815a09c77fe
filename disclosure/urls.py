"""Public pages of disclosure: the credit record of an entity and the public lists.

Included at the site root before enterprises.urls, so /e/<USCC>/ is served here (with the credit record);
`enterprises:entity` still reverses to the same path.
"""

from __future__ import annotations

from django.urls import path

from disclosure import views

app_name = "disclosure"
urlpatterns = [
    path("e/<str:uscc>/", views.entity, name="entity"),
    path("abnormal/", views.abnormal_list, name="abnormal-list"),
    path("serious/", views.serious_list, name="serious-list"),
]
