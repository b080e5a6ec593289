from django.apps import AppConfig


class HmsportalConfig(AppConfig):
    name = "hmsportal"
    verbose_name = "HMS-kortportalen"
