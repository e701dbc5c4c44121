from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "workbench"
    verbose_name = "Workbench (how it changes)"

    def ready(self):
        # The audit trail listens to sign-ins, tokens, groups, permissions, memberships and platform writes.
        from workbench.services.audit import receivers

        receivers.connect()
