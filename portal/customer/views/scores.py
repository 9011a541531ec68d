"""The company's scores as its members read them: a share of the maximum, what moves each,
and the last 12 weeks.

Every active member of the company sees them: they describe how the company treats the
parents who ask, which is everyone's work, and they show nothing private.
"""

from flask_login import current_user

from portal import htmx
from portal.access import CUSTOMER_USER, allow
from portal.clock import istanbul_today
from portal.customer import bp, charts
from portal.customer import scores as company_scores
from portal.extensions import db
from portal.models.customers import SCORE_NAMES

SPARK_WIDTH, SPARK_HEIGHT = 120, 32


@bp.route("/scores")
@allow(CUSTOMER_USER)
def scores():
    """The latest scores and the 12 weeks' trend: one statement for the scores."""
    customer_user = current_user.customer_user
    today = istanbul_today()
    latest, weeks = company_scores.latest_and_trend(db.session, customer_user.customer_id, today)
    trend = {
        name: charts.line(
            [getattr(w.scores, name) if w.scores else None for w in weeks],
            width=SPARK_WIDTH,
            height=SPARK_HEIGHT,
            maximum=company_scores.MAXIMUM,
        )
        for name in SCORE_NAMES
    }
    return htmx.render(
        "customer/scores.html",
        "scores",
        customer=customer_user.customer,
        latest=latest,
        weeks=weeks,
        trend=trend,
        names=SCORE_NAMES,
        percent=company_scores.percent,
        spark_size=(SPARK_WIDTH, SPARK_HEIGHT),
    )
