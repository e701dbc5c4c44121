"""Leads: `leads.create` (keyed by phone) and `leads.get` (a read, safe to retry)."""

from registries.models import Lead

from ._kit import create_row, iso


def _lead(lead):
    return {
        "lead_id": lead.pk,
        "phone": lead.phone,
        "name": lead.name,
        "email": lead.email,
        "source": lead.source,
        "created_at": iso(lead.created_at),
    }


def create(input, *, context):
    lead = Lead(
        phone=input["phone"],
        name=input.get("name", ""),
        email=input.get("email", ""),
        source=input.get("source", ""),
        call_id=context.call_id,
        tenant=context.tenant,
    )
    return _lead(create_row(lead, what="lead", key="phone"))


def get(input, *, context):
    lead = Lead.objects.filter(tenant=context.tenant, phone=input["phone"]).first()
    return {"found": lead is not None, "lead": _lead(lead) if lead else None}
