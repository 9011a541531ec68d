"""The team's daily activity: the last 30 Istanbul days of each member, as a chart and a table.

Shown to the members who look after the team (Permission.MANAGE_TEAM): how colleagues use the
portal is the business of whoever invites, grants and deactivates them.
"""

from datetime import timedelta

from flask import request

from portal import htmx
from portal.access import CUSTOMER_USER, allow, member_who_may
from portal.access.permissions import Permission
from portal.clock import istanbul_today
from portal.customer import activity as team_activity
from portal.customer import bp, charts
from portal.extensions import db
from portal.paging import page_number

# The kinds of a day's bar, bottom up, with their colours (each at least 4.5:1 on white).
KINDS = (
    ("sign_ins", "#4b5563"),
    ("lead_views", "#1d5f99"),
    ("lead_replies", "#9a4a00"),
    ("offers", "#23702a"),
    ("agreements_signed", "#7a3e9d"),
)
CHART_WIDTH, CHART_HEIGHT = 300, 60


@bp.route("/activity")
@allow(CUSTOMER_USER)
def activity():
    """The company's members, five a page (`?page=N`), each with their last 30 days.

    :raise 403: for a member who may not manage the team.
    """
    customer_user = member_who_may(Permission.MANAGE_TEAM)
    today = istanbul_today()
    members = team_activity.team_activity_page(
        db.session, customer_user.customer_id, today, page_number(request.args.get("page", 1))
    )
    # One scale for the whole page, so members' bars compare.
    top = max((day.total for m in members.items for day in m.days), default=0)

    def bars_of(member: team_activity.MemberActivity) -> dict[str, str]:
        # Called by the template only for a member whose chart is not kept rendered.
        return charts.bar_paths(
            charts.stacked_bars(
                [[(kind, getattr(day, kind)) for kind, _ in KINDS] for day in member.days],
                width=CHART_WIDTH,
                height=CHART_HEIGHT,
                top=top,
            )
        )

    return htmx.render(
        "customer/activity.html",
        "team_activity",
        customer=customer_user.customer,
        members=members,
        bars_of=bars_of,
        top=top,
        colours=dict(KINDS),
        chart_size=(CHART_WIDTH, CHART_HEIGHT),
        first_day=today - timedelta(days=team_activity.DAYS_SHOWN - 1),
        today=today,
    )
