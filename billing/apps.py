from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Practice"

    def ready(self) -> None:
        from billing.roles import sync_builtin_roles

        post_migrate.connect(sync_builtin_roles, sender=self)
