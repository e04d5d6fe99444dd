"""The navigation bar's counts: unread notifications, and open reviews for reviewers."""

from django.http import HttpRequest

from . import selectors


def review_nav(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # One query per page: if the view already asked roles.is_reviewer(), its answer is
    # cached on the user and reused; otherwise the same rule runs inside the counts' query.
    counts = selectors.nav_counts(user=user, reviewer=getattr(user, "_is_reviewer", None))
    user._is_reviewer = bool(counts["is_reviewer"])
    return {
        "nav_is_reviewer": counts["is_reviewer"],
        "nav_unread": counts["unread"],
        "nav_open_reviews": counts["open_reviews"],
    }
