"""The generated authorization matrix of the admin: every admin URL of every registered model (changelist,
add, change, delete, history, and each custom view) and the actions each list offers, for every role, on
a row of tenant A or of the platform, as the access table implies.

A custom admin URL or a registered model missing from the expectations below fails the test.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import transaction
from django.test import Client
from django.urls import reverse

from . import world
from .expectations import addressable, perm, reads, writes, writes_somewhere

pytestmark = pytest.mark.django_db

LOGIN, MISSING = "login", "missing"  # redirect to the login page; the admin's "does not exist" redirect

#: label -> (world row, its scope)
ROWS = {
    "workbench.tenant": ("tenant_a", "platform"),
    "workbench.membership": ("membership", "A"),
    "workbench.workbenchdraft": ("draft", "A"),
    "workbench.tsvexchange": ("exchange", "platform"),
    "workbench.probe": ("probe", "A"),
    "workbench.securityevent": ("security_event", "A"),
    "registries.componentspec": ("spec", "platform"),
    "registries.skill": ("skill", "platform"),
    "registries.connector": ("connector", "platform"),
    "registries.scope": ("scope", "platform"),
    "registries.routingconfig": ("routing", "platform"),
    "registries.engineroute": ("route", "platform"),
    "registries.tooldefinition": ("tool", "platform"),
    "registries.toolpermission": ("tool_permission", "platform"),
    "registries.toolregistryimport": ("registry_import", "platform"),
    "registries.toolreceipt": ("receipt", "A"),
    "registries.lead": ("lead", "A"),
    "registries.mediaasset": ("mediaasset", "A"),
    "registries.memory": ("memory", "A"),
    "registries.patternscore": ("patternscore", "A"),
    "registries.boundary": ("boundary", "A"),
    "registries.task": ("task", "A"),
    "policies.firearm": ("firearm", "platform"),
    "policies.firearmgrant": ("grant", "A"),
    "policies.firearmbinding": ("binding", "platform"),
    "policies.strategylock": ("lock", "platform"),
    "policies.kpidefinition": ("kpi", "platform"),
    "policies.kpicorridor": ("corridor", "platform"),
    "policies.kpitoolbinding": ("kpi_binding", "platform"),
    "policies.budgetpolicy": ("budget_a", "A"),
    "policies.usageevent": ("usage", "A"),
    "auth.user": ("user", "platform"),
    "auth.group": ("group", "platform"),
    "knox.authtoken": ("token", "platform"),
}

#: What an admin never offers, whoever asks: grants are revoked, not edited or deleted; published specs
#: and drafts are never deleted (deprecated, abandoned); tools change only by importing tools.registry.json.
NEVER = {
    "registries.tooldefinition": {"add", "change", "delete"},
    "policies.firearmgrant": {"change", "delete"},
    "registries.componentspec": {"delete"},
    "registries.skill": {"delete"},
    "workbench.workbenchdraft": {"delete"},
}


def _sheet_perms(kind):
    from workbench.exchange import EXPORTS

    return EXPORTS[kind].export_permissions


def _has_all(role, perms):
    return all(role.has(p) for p in perms)


def _exchange_view(role):
    from workbench.exchange import EXPORTS

    return any(_has_all(role, resource.export_permissions) for resource in EXPORTS.values())


#: custom admin URL name -> (row needed?, callable(role) -> expected status)
def _draft_custom(action):
    def expect(role):
        if action in ("import_mcp", "import_server_json", "import_package"):
            return 200 if role.has("workbench.add_workbenchdraft") else 403
        if not reads(role, "workbench.workbenchdraft", "A"):
            return 404
        if action == "restore":
            # The restore preview: only for whoever could confirm it (a writer of the draft).
            label = "workbench.workbenchdraft"
            return 200 if role.has(perm(label, "change")) and writes(role, label, "A") else 403
        return 200 if role.has("workbench.view_workbenchdraft") else 403

    return expect


def _tool_page(perms, platform=False):
    def expect(role):
        if not _has_all(role, perms):
            return 403
        return 200 if (role.platform_staff or not platform) else 403

    return expect


def _import_page(label, perms, writes_label=None):
    def expect(role):
        allowed = _has_all(role, perms) and writes_somewhere(role, writes_label or label)
        return 200 if allowed else 403

    return expect


def _password_page(role):
    if not role.has("auth.change_user"):
        return 403
    return 200 if role.platform_staff else 403


CUSTOM = {
    "auth_user_password_change": (True, _password_page),
    "workbench_workbenchdraft_import_mcp": (False, _draft_custom("import_mcp")),
    "workbench_workbenchdraft_import_server_json": (False, _draft_custom("import_server_json")),
    "workbench_workbenchdraft_diff": (True, _draft_custom("diff")),
    "workbench_workbenchdraft_restore": (True, _draft_custom("restore")),
    # Sandbox probes: the import page is a draft's add page; a draft's check page reads like its diff.
    "workbench_probe_import": (False, _draft_custom("import_package")),
    "workbench_workbenchdraft_probe": (True, _draft_custom("probe")),
    # The audit trail's TSV: whoever may view security events downloads the ones they may read.
    "workbench_securityevent_export": (
        False, lambda role: 200 if role.has("workbench.view_securityevent") else 403
    ),
    "workbench_tsvexchange_download": (
        "connectors",
        lambda role: 200 if _has_all(role, _sheet_perms("connectors")) else 403,
    ),
    "workbench_tsvexchange_coverage": (
        False,
        lambda role: 200 if _has_all(role, _sheet_perms("coverage")) else 403,
    ),
    "workbench_tsvexchange_export": (
        False,
        lambda role: 200 if _has_all(role, _sheet_perms("policy-matrix")) else 403,
    ),
    "workbench_tsvexchange_import": (
        False,
        _import_page(
            "workbench.tsvexchange",
            ("registries.view_scope", "workbench.add_workbenchdraft"),
            writes_label="workbench.workbenchdraft",
        ),
    ),
    "policies_firearm_import": (
        False,
        _import_page("policies.firearm", ("policies.add_firearm", "policies.change_firearm")),
    ),
    "policies_firearmgrant_import": (
        False,
        _import_page("policies.firearmgrant", ("policies.add_firearmgrant",)),
    ),
    "policies_kpicorridor_import": (
        False,
        _import_page("policies.kpicorridor", ("policies.add_kpicorridor", "policies.change_kpicorridor")),
    ),
    "registries_tooldefinition_import": (
        False,
        _tool_page(
            [
                "registries.add_tooldefinition",
                "registries.change_tooldefinition",
                "registries.delete_tooldefinition",
            ],
            platform=True,
        ),
    ),
    "registries_tooldefinition_export": (False, _tool_page(["registries.view_tooldefinition"])),
    # A connector version's server.json: whoever sees the connector's page downloads it.
    "registries_connector_server_json": (
        True, lambda role: 200 if _view_perm(role, "registries.connector") else 403
    ),
    "registries_tooldefinition_coverage": (False, _tool_page(["registries.view_tooldefinition"])),
    "registries_tooldefinition_try": (
        True,
        _tool_page(["registries.view_tooldefinition", "registries.invoke_tooldefinition"]),
    ),
}
#: URLs reached only by POST (their GET is refused for everyone) or served by another page's flow.
POST_ONLY = {
    "workbench_workbenchdraft_validate",
    "workbench_tsvexchange_process_import",
    "policies_firearm_process_import",
    "policies_firearmgrant_process_import",
    "policies_kpicorridor_process_import",
}

#: admin action -> callable(role) -> offered?
ACTIONS = {
    ("workbench.workbenchdraft", "validate_selected"): lambda role: role.has(
        "workbench.change_workbenchdraft"
    ),
    ("workbench.workbenchdraft", "publish_selected"): lambda role: role.has(
        "workbench.publish_workbenchdraft"
    ),
    ("policies.firearmgrant", "revoke_selected"): lambda role: (
        role.has("policies.change_firearmgrant") and writes_somewhere(role, "policies.firearmgrant")
    ),
    ("policies.firearmgrant", "approve_selected"): lambda role: (
        role.has("policies.change_firearmgrant") and writes_somewhere(role, "policies.firearmgrant")
    ),
    ("policies.strategylock", "engage_selected"): lambda role: (
        role.has("policies.change_strategylock") and role.platform_staff
    ),
    ("policies.strategylock", "release_selected"): lambda role: (
        role.has("policies.change_strategylock") and role.platform_staff
    ),
    ("registries.componentspec", "deprecate_selected"): lambda role: (
        role.has("registries.change_componentspec") and role.platform_staff
    ),
    ("registries.skill", "deprecate_selected"): lambda role: (
        role.has("registries.change_skill") and role.platform_staff
    ),
    ("workbench.securityevent", "export_tsv_selected"): lambda role: role.has(
        "workbench.view_securityevent"
    ),
    ("registries.connector", "transfer_selected"): lambda role: (
        role.has("registries.change_connector") and role.platform_staff
    ),
    # Unlocking a sign-in locked out by failed attempts clears django-axes' counts: platform staff only.
    ("auth.user", "unlock_selected"): lambda role: (
        role.has("axes.delete_accessattempt") and role.platform_staff
    ),
}


def _registered():
    return {model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()}


def test_every_registered_model_and_admin_url_is_in_the_matrix():
    registered = _registered()
    assert sorted(set(registered) - set(ROWS)) == [], "add the model to ROWS"
    standard = {"changelist", "add", "history", "delete", "change"}
    names = set()
    for label, model_admin in registered.items():
        app, model = label.split(".")
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None)
            if name and name.removeprefix(f"{app}_{model}_") not in standard | {"simple_history"}:
                names.add(name)
    missing = sorted(names - set(CUSTOM) - POST_ONLY)
    assert not missing, f"add these admin URLs to CUSTOM: {missing}"


def _view_perm(role, label):
    if label == "workbench.tsvexchange":
        return _exchange_view(role)
    if label == "workbench.probe":  # no permissions of its own: a part of a draft's life
        return role.has("workbench.view_workbenchdraft")
    return role.has(perm(label, "view")) or (
        role.has(perm(label, "change")) and writes_somewhere(role, label)
    )


def expected_page(role, label, page):
    if not role.signed_in:
        return LOGIN
    row, scope = ROWS[label]
    never = NEVER.get(label, set())
    if label == "workbench.workbenchdraft" and page in ("change", "history"):
        if not reads(role, label, "A"):
            return 404
        return 200 if role.has(perm(label, "view")) or role.has(perm(label, "change")) else 403
    if page == "changelist":
        return 200 if _view_perm(role, label) else 403
    if page == "add":
        allowed = role.has(perm(label, "add")) and writes_somewhere(role, label) and "add" not in never
        if label == "workbench.workbenchdraft":
            allowed = role.has(perm(label, "add"))
        return 200 if allowed and label not in ("workbench.tsvexchange",) else 403
    if page == "change":
        if not _view_perm(role, label):
            return 403
        return 200 if addressable(role, label, scope) else MISSING
    if page in ("history", "simple_history"):
        if not addressable(role, label, scope):
            return 404
        return 200 if _view_perm(role, label) else 403
    if page == "delete":
        if "delete" in never or not (role.has(perm(label, "delete")) and writes_somewhere(role, label)):
            return 403
        if not addressable(role, label, scope):
            return MISSING
        return 200 if writes(role, label, scope) else 403
    raise AssertionError(page)


def expected_change_allowed(role, label):
    row, scope = ROWS[label]
    if "change" in NEVER.get(label, set()) or label == "workbench.workbenchdraft":
        return None  # pages of their own: not the generic change form
    return role.has(perm(label, "change")) and writes(role, label, scope)


def _status(response):
    if response.status_code == 302:
        return LOGIN if "/login/" in response["Location"] else MISSING
    return response.status_code


def _get(client, url):
    with transaction.atomic():
        response = client.get(url)
        transaction.set_rollback(True)
    return response


def _clients(roles):
    clients = {}
    for name, role in roles.items():
        client = Client()
        if role.signed_in:
            client.force_login(role.user)
        clients[name] = client
    return clients


def test_every_admin_page_answers_every_role_as_the_table_implies():
    roles, rows = world.build()
    clients = _clients(roles)
    wrong = []
    for label, model_admin in sorted(_registered().items()):
        app, model = label.split(".")
        row = rows[ROWS[label][0]]
        pk = quote(row.pk)
        pages = {"changelist": [], "add": [], "change": [pk], "history": [pk], "delete": [pk]}
        names = {getattr(pattern, "name", None) for pattern in model_admin.get_urls()}
        if f"{app}_{model}_simple_history" in names and row.history.exists():
            pages["simple_history"] = [pk, row.history.latest().history_id]
        for page, args in pages.items():
            url = reverse(f"admin:{app}_{model}_{page}", args=args)
            for name, role in roles.items():
                response = _get(clients[name], url)
                want, got = expected_page(role, label, page), _status(response)
                if want != got:
                    wrong.append(f"{page} {label} as {name}: want {want}, got {got}")
                elif page == "change" and got == 200 and expected_change_allowed(role, label) is not None:
                    offered = bool(response.context.get("has_change_permission"))
                    if offered != expected_change_allowed(role, label):
                        wrong.append(f"change {label} as {name}: change offered {offered}")
                elif page == "changelist" and got == 200 and ROWS[label][1] == "A":
                    listed = row.pk in {obj.pk for obj in response.context["cl"].result_list}
                    if listed != reads(role, label, "A"):
                        wrong.append(f"changelist {label} as {name}: tenant A's row listed {listed}")
    assert not wrong, "\n".join(wrong)


def test_every_custom_admin_page_answers_every_role_as_the_table_implies():
    roles, rows = world.build()
    clients = _clients(roles)
    wrong = []
    for url_name, (needs, expect) in sorted(CUSTOM.items()):
        if needs is True:
            label = next(label for label in ROWS if url_name.startswith(label.replace(".", "_")))
            args = [quote(rows[ROWS[label][0]].pk)]
        elif needs:
            args = [needs]
        else:
            args = []
        url = reverse(f"admin:{url_name}", args=args)
        for name, role in roles.items():
            want = LOGIN if not role.signed_in else expect(role)
            got = _status(_get(clients[name], url))
            if want != got:
                wrong.append(f"{url_name} as {name}: want {want}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_each_list_offers_the_actions_the_table_allows():
    roles, _ = world.build()
    clients = _clients(roles)
    wrong = []
    offered_anywhere = set()
    for label in sorted(_registered()):
        app, model = label.split(".")
        url = reverse(f"admin:{app}_{model}_changelist")
        for name, role in roles.items():
            if not role.signed_in:
                continue
            response = _get(clients[name], url)
            if response.status_code != 200:
                continue
            form = response.context.get("action_form")
            actions = {value for value, _ in form.fields["action"].choices if value} if form else set()
            actions.discard("delete_selected")
            offered_anywhere |= {(label, action) for action in actions}
            for action in actions | {a for (lbl, a) in ACTIONS if lbl == label}:
                want = ACTIONS.get((label, action))
                if want is None:
                    wrong.append(f"{label}: action {action} is not in ACTIONS")
                elif (action in actions) != want(role):
                    wrong.append(f"{label} as {name}: action {action} offered {action in actions}")
    assert not wrong, "\n".join(sorted(set(wrong)))
    assert offered_anywhere == set(ACTIONS)
