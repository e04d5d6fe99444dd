"""What evaluation tells the apps above it, without knowing them.

`evaluation_finished` is sent after the outcome is committed, with `evaluation_id` and
`version_id`; the review workflow listens to refresh the checks of an open review.
"""

from django.dispatch import Signal

evaluation_finished = Signal()
