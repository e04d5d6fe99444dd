"""What the review workflow does when the apps below it have news: it only enqueues."""

import logging

from .tasks import refresh_review_checks

log = logging.getLogger(__name__)


def evaluation_finished(sender, *, version_id: int, **kwargs) -> None:
    """An evaluation of the version finished: its open review's checks may have changed.

    The decision recomputes the checks itself, so a refresh the broker could not take only
    leaves the queue's "failing checks" filter behind until the next one.
    """
    try:
        refresh_review_checks.delay(version_id)
    except Exception:
        log.warning("could not enqueue the check refresh of version %s", version_id, exc_info=True)
