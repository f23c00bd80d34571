from django.apps import AppConfig


class EmployerCollectionsConfig(AppConfig):
    verbose_name = "Employer collections"
    name = "employer_collections"
