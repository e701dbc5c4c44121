"""Identity: `identity.add_memory` and `identity.score_pattern`, both keyed by `key`."""

from decimal import Decimal

from registries.models import Memory, PatternScore

from ._kit import create_row, iso


def add_memory(input, *, context):
    memory = Memory(
        key=input["key"],
        content=input["content"],
        tags=input.get("tags", []),
        call_id=context.call_id,
        tenant=context.tenant,
    )
    create_row(memory, what="memory", key="key")
    return {"memory_id": memory.pk, "key": memory.key, "created_at": iso(memory.created_at)}


def score_pattern(input, *, context):
    score = PatternScore(
        key=input["key"],
        pattern=input["pattern"],
        score=Decimal(str(input["score"])).quantize(Decimal("0.0001")),
        call_id=context.call_id,
        tenant=context.tenant,
    )
    create_row(score, what="pattern score", key="key")
    return {"score_id": score.pk, "key": score.key, "pattern": score.pattern, "score": float(score.score)}
