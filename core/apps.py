from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from core.roles import sync_role_groups

        # Role groups need every app's permissions, which exist only after all migrations ran.
        post_migrate.connect(sync_role_groups, dispatch_uid="core.sync_role_groups")
