from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("Inspections")

    def ready(self) -> None:
        # The entity's public record shows published inspection results (disclosure never imports inspections).
        from disclosure.selectors import register_public_section
        from inspections.public import inspection_section

        register_public_section("inspections", inspection_section)
