from django.apps import AppConfig


class ClearinghouseConfig(AppConfig):
    name = "clearinghouse"
