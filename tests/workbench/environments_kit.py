"""Helpers of the environment tests: run a command and read its output, load a real environment, dump
the loaded rows."""

import io

from django.core.management import call_command


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def load(env, *args):
    """load_environment of a real environment; dev installs its demo logins (known passwords), which
    outside debug (tests run with DEBUG off) takes --allow-demo-users."""
    flags = ("--allow-demo-users",) if env == "dev" else ()
    return run("load_environment", env, *args, *flags)


def dumpdata():
    out = io.StringIO()
    call_command("dumpdata", "policies", "registries", "workbench.tenant", stdout=out)
    return out.getvalue()
