import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from workbench.models import Membership, Tenant
from workbench.models.drafts import STAGE_PATH


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def perms(self, create, extracted, **kwargs):
        """UserFactory(perms=["policies.view_firearm", ...]) grants those model permissions."""
        if not create:
            return
        from django.contrib.auth.models import Permission

        for dotted in extracted or ():
            app_label, codename = dotted.split(".")
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        # Always save: the password set by the hook above is otherwise lost (skip_postgeneration_save),
        # and a logged-in session of such a user is dropped on its next request.
        self.save()


class StaffFactory(UserFactory):
    is_staff = True


class SuperuserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"group{n}")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.EDITOR


def platform_tenant():
    """The platform tenant (settings.WORKBENCH_PLATFORM_TENANT, the system tenant of seeds/00_system.json)."""
    from django.conf import settings

    return TenantFactory(slug=settings.WORKBENCH_PLATFORM_TENANT, name="Workbench (platform)")


def platform_staff(perms=(), *, auditor=True, role=Membership.Role.EDITOR, **kwargs):
    """A staff user who is platform staff (an editor of the platform tenant) holding `perms`, and (by
    default) an auditor, who reads every tenant's rows."""
    perms = [*perms, "workbench.audit_tenants"] if auditor else list(perms)
    user = StaffFactory(perms=perms, **kwargs)
    MembershipFactory(tenant=platform_tenant(), user=user, role=role)
    return user


def api_token(user, **kwargs):
    """A knox API token for `user`, in plain text as create_api_token prints it (only its hash is stored)."""
    from knox.models import AuthToken

    return AuthToken.objects.create(user=user, **kwargs)[1]


def api_token_row(user, **kwargs):
    """A knox AuthToken row of `user` (the row, not the token text)."""
    from knox.models import AuthToken

    return AuthToken.objects.create(user=user, **kwargs)[0]


def token_client(user):
    """A DRF APIClient sending `Authorization: Token <token>` for `user`."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def draft_tool(name, *, read_only=False, destructive=None, **extra):
    """An MCP Tool object as tools/list returns it."""
    annotations = {"readOnlyHint": read_only}
    if destructive is not None:
        annotations["destructiveHint"] = destructive
    return {"name": name, "description": f"{name} tool", "inputSchema": {"type": "object", "properties": {}},
            "annotations": annotations, **extra}


def draft_spec(connector_id="github", version="1.2.0", *, tools=None, scopes=None, **extra):
    """A spec_snapshot in the shape of PRODUCT.md section 4 (two tools, two scopes unless told)."""
    tools = tools if tools is not None else [
        draft_tool("delete_file", destructive=True), draft_tool("get_file_contents", read_only=True),
    ]
    scopes = scopes if scopes is not None else [
        {"name": "admin_write", "description": "Change the repository", "tools": ["delete_file"]},
        {"name": "read_public", "description": "Read public files", "tools": ["get_file_contents"]},
    ]
    return {
        "id": connector_id, "name": connector_id.title(), "version": version, "description": "MCP server",
        "tools": tools, "scopes": scopes,
        "packaging": {"registry_type": "npm", "identifier": f"@acme/{connector_id}-mcp", "version": version,
                      "bin": f"{connector_id}-mcp", "transport": "stdio"},
        "portability": {}, **extra,
    }


class WorkbenchDraftFactory(factory.django.DjangoModelFactory):
    """A draft whose owner is an editor of its tenant and its author; every scope decided NONE unless told.

    Its content is complete, so it stands at `verification`, as after walking the path (definition ->
    scoping -> policy -> verification), ready to be validated and published; `stage=` says otherwise."""

    class Meta:
        model = "workbench.WorkbenchDraft"
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    owner = factory.SubFactory(UserFactory)
    connector_id = factory.Sequence(lambda n: f"connector-{n}")
    stage = "verification"
    spec_snapshot = factory.LazyAttribute(lambda d: draft_spec(d.connector_id))
    policy_snapshot = factory.LazyAttribute(
        lambda d: {"firearms": {s["name"]: None for s in d.spec_snapshot["scopes"]}, "kpis": {}}
    )
    revised_by = factory.SelfAttribute("owner")
    revised_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def membership(self, create, extracted, **kwargs):
        if create:
            Membership.objects.get_or_create(tenant=self.tenant, user=self.owner,
                                             defaults={"role": extracted or Membership.Role.EDITOR})

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        """The owner wrote the draft (as draft_create records it) unless `authors=[...]` says who did."""
        if create:
            self.authors.add(*(self.owner,) if extracted is None else extracted)


def walk_to(draft, user, stage="verification"):
    """Move a draft through the draft service one stage at a time up to `stage`, as staff do (each move
    a revision); returns the draft as saved."""
    from workbench.services.drafts import draft_update

    while STAGE_PATH.index(draft.stage) < STAGE_PATH.index(stage):
        following = STAGE_PATH[STAGE_PATH.index(draft.stage) + 1]
        draft = draft_update(
            draft_id=draft.pk, user=user, base_revision=draft.revision, changes={"stage": following}
        )
    return draft


def api_walk_to(client, item, stage="verification"):
    """The same through the API: PATCH `stage` one step at a time with If-Match; returns the last answer."""
    answer = client.get(item)
    while STAGE_PATH.index(answer.json()["stage"]) < STAGE_PATH.index(stage):
        following = STAGE_PATH[STAGE_PATH.index(answer.json()["stage"]) + 1]
        answer = client.patch(item, {"stage": following}, format="json", HTTP_IF_MATCH=answer["ETag"])
        assert answer.status_code == 200, answer.json()
    return answer


class ProbeFactory(factory.django.DjangoModelFactory):
    """A finished check probe of a draft's current revision that served exactly the draft's tools, unless
    told otherwise (`status=`, `findings=`, `draft_revision=`)."""

    class Meta:
        model = "workbench.Probe"

    draft = factory.SubFactory(WorkbenchDraftFactory)
    tenant = factory.SelfAttribute("draft.tenant")
    requested_by = factory.SelfAttribute("draft.owner")
    kind = "check"
    registry_type = "npm"
    identifier = factory.LazyAttribute(lambda p: p.draft.spec_snapshot["packaging"]["identifier"])
    version = factory.LazyAttribute(lambda p: p.draft.spec_snapshot["packaging"]["version"])
    connector_id = factory.SelfAttribute("draft.connector_id")
    draft_revision = factory.SelfAttribute("draft.revision")
    status = "succeeded"
    tools = factory.LazyAttribute(lambda p: p.draft.spec_snapshot["tools"])
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
