"""The school or campus a parent's own list names (a favorite, a comparison), if it is public.

A module of its own, outside portal.schools and portal.account: both features ask it, and
either package importing the other would import its views too (each package's __init__
registers them), which made a worker that imported account first fail to boot.
"""

from sqlalchemy.orm import Session, joinedload

from portal.models import Campus, School


def public_target(session: Session, kind: str, target_id: int) -> School | Campus | None:
    """The public school (`kind` "school") or the live campus of a public school ("campus")
    with that id, or None for anything else.

    Through the session's identity map: a toggle asks once to check its target and once more
    to draw itself, and the second time costs no query.
    """
    if kind == "school":
        school = session.get(School, target_id)
        return school if school is not None and school.is_public else None
    if kind == "campus":
        campus = session.get(Campus, target_id, options=[joinedload(Campus.school)])
        if campus is None or campus.deleted_at is not None:
            return None
        # A deleted school is not loaded at all (the soft-delete criteria): None here.
        return campus if campus.school is not None and campus.school.is_public else None
    return None
