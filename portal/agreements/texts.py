"""Agreement texts: published versions per kind, their validity windows, and the templates'
placeholders.

A published version is never edited: a change is a new version. Publishing a version closes
the window of the version in force before it (open-ended until then) at the new one's start;
any other overlap with a window of the same kind is refused, so "the text of this kind valid
at T" has exactly one answer or none (a gap). A version cannot start before the moment it is
published: what was valid in the past never changes. PostgreSQL refuses overlaps itself too
(an EXCLUDE constraint, migration 0014); MariaDB and SQLite rely on this module, and on the
unique (kind, version), which makes two publications of one kind at once collide.

Templates use `{placeholder}` fields (Python's format syntax, `{{` and `}}` for literal
braces) and nothing else: no attribute, index, conversion or format spec, and only the
names the kind knows (PLACEHOLDERS). That is checked when a text is published and again when
it is filled, with a mapping that refuses any name it lacks. A template language with loops
and filters (even Jinja's sandbox) would let a text hold logic that no reviewer of the
contract reads; here the code renders the parts that need logic (the products table, money,
dates) and the text only places them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from string import Formatter

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.agreements.evidence import canonical_document, document_sha256
from portal.models import AgreementText
from portal.models.customers import AgreementKind
from portal.refusal import Refusal

# What the parent's pre-information form and distance sales contract may name: the seller
# (settings), the buyer (their account), the plan and its price with KDV, the order.
PARENT_SALE_PLACEHOLDERS = frozenset(
    {
        "provider_name",
        "provider_legal_name",
        "provider_tax_office",
        "provider_tax_number",
        "provider_address",
        "provider_kep_address",
        "buyer_name",
        "buyer_email",
        "buyer_phone",
        "plan_name",
        "billing_cycle",
        "period",
        "price_net",
        "kdv_rate",
        "kdv",
        "price_gross",
        "payment_schedule",
        "document_date",
        "order_key",
    }
)
# The placeholders each kind's template may use. None: only the syntax is checked.
PLACEHOLDERS: dict[str, frozenset[str] | None] = {
    AgreementKind.COMPANY_SERVICE: frozenset(
        {
            "agreement_no",
            "provider_name",
            "provider_legal_name",
            "provider_tax_office",
            "provider_tax_number",
            "provider_address",
            "company_name",
            "company_legal_name",
            "company_tax_office",
            "company_tax_id",
            "company_address",
            "company_kep_address",
            "products",
            "total_net",
            "kdv",
            "total_gross",
            "term_start",
            "term_end",
        }
    ),
    # The parent's sale documents (portal.agreements.acceptances renders them).
    AgreementKind.PARENT_DISTANCE_SALES: PARENT_SALE_PLACEHOLDERS,
    AgreementKind.PARENT_PRE_INFORMATION: PARENT_SALE_PLACEHOLDERS,
}
TITLE_LENGTH = 255


class TextError(Refusal):
    """A text that cannot be published or found as asked; `code` names why."""


class NoValidText(TextError):
    """No version of the kind is valid at that time (none published yet, or a gap)."""


class OverlappingWindow(TextError):
    """The new version's window would overlap another version's of the same kind."""


class TemplateError(TextError):
    """The template's placeholders are malformed or unknown to the kind."""


def placeholders_in(body: str) -> set[str]:
    """The field names a template uses; refuses anything but plain `{name}` fields."""
    names = set()
    try:
        parsed = list(Formatter().parse(body))
    except ValueError as error:  # a lone "{" or "}"
        raise TemplateError("template_syntax", str(error)) from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError("template_field", f"{{{name}}} is not a plain placeholder")
        names.add(name)
    return names


def check_template(kind: str, body: str) -> None:
    """Refuse a template with a placeholder its kind does not know (or malformed ones)."""
    used = placeholders_in(body)
    known = PLACEHOLDERS[kind]
    if known is not None and used - known:
        raise TemplateError("template_unknown_placeholder", ", ".join(sorted(used - known)))


class _Strict(dict):
    def __missing__(self, key: str) -> str:
        raise TemplateError("template_unfilled", key)


def fill(body: str, values: Mapping[str, str]) -> str:
    """The template with every placeholder replaced by its value (strings only), canonical."""
    placeholders_in(body)  # the same refusals as at publication, before anything is filled
    return canonical_document(body.format_map(_Strict(values)))


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be an aware datetime (UTC)")


def text_valid_at(session: Session, kind: str, when: datetime) -> AgreementText:
    """The version of `kind` valid at `when`; NoValidText when none is. Two would be a broken
    invariant, refused rather than guessed at."""
    _aware(when, "when")
    texts = session.scalars(
        select(AgreementText)
        .where(
            AgreementText.kind == kind,
            AgreementText.started_at <= when,
            or_(AgreementText.finished_at.is_(None), AgreementText.finished_at > when),
        )
        .limit(2)
    ).all()
    if not texts:
        raise NoValidText("no_valid_text", f"{kind} at {when.isoformat()}")
    if len(texts) > 1:
        raise OverlappingWindow("windows_overlap", f"{kind} at {when.isoformat()}")
    return texts[0]


def _overlaps(start, end, other_start, other_end) -> bool:
    # Half-open windows [start, end); None is "no end".
    return (other_end is None or start < other_end) and (end is None or other_start < end)


def publish_text(
    session: Session,
    kind: str,
    *,
    title: str,
    body: str,
    started_at: datetime,
    now: datetime,
    finished_at: datetime | None = None,
    title_en: str | None = None,
    body_en: str | None = None,
) -> AgreementText:
    """Publish the next version of `kind`, valid from `started_at` (not before `now`) until
    `finished_at` (None: until a newer version starts). The caller commits.

    The version in force before it, if open-ended and started earlier, is closed at
    `started_at`; an overlap with any other window is refused (OverlappingWindow).
    """
    for name, value in (("started_at", started_at), ("now", now), ("finished_at", finished_at)):
        _aware(value, name)
    if kind not in PLACEHOLDERS:
        raise TextError("unknown_kind", kind)
    title, title_en = title.strip(), (title_en or "").strip() or None
    if not title or len(title) > TITLE_LENGTH or (title_en and len(title_en) > TITLE_LENGTH):
        raise TextError("title_invalid")
    body = canonical_document(body)
    body_en = canonical_document(body_en) if body_en and body_en.strip() else None
    if not body.strip():
        raise TextError("body_empty")
    check_template(kind, body)
    if body_en is not None:
        check_template(kind, body_en)
    if started_at < now:
        raise TextError("starts_in_the_past", "a version starts when it is published or later")
    if finished_at is not None and finished_at <= started_at:
        raise TextError("window_inverted")

    # Every version of the kind, locked: a second publication of the kind waits here (and on
    # PostgreSQL and MariaDB reads what the first committed).
    versions = session.scalars(
        select(AgreementText)
        .where(AgreementText.kind == kind)
        .order_by(AgreementText.started_at)
        .with_for_update()
    ).all()
    for version in versions:
        if version.finished_at is None and version.started_at < started_at:
            continue  # the open-ended predecessor: closed below
        if _overlaps(started_at, finished_at, version.started_at, version.finished_at):
            raise OverlappingWindow(
                "window_overlaps", f"version {version.version} from {version.started_at}"
            )
    for version in versions:
        if version.finished_at is None and version.started_at < started_at:
            version.finished_at = started_at
    session.flush()

    number = max((version.version for version in versions), default=0) + 1
    text = AgreementText(
        kind=kind,
        version=number,
        title=title,
        body=body,
        body_sha256=document_sha256(body),
        title_en=title_en,
        body_en=body_en,
        started_at=started_at,
        finished_at=finished_at,
        published_at=now,
    )
    session.add(text)
    session.flush()
    return text
