"""What evaluation tells the apps above it, without knowing them.

- `evaluation_finished` is sent after the outcome is committed, with `evaluation_id` and
  `version_id`; the review workflow listens to refresh the checks of an open review and to
  deliver webhooks.
- `file_scanned` is sent after a scan verdict is committed, with `file_id`, `version_id` and
  `status` (a `ScanStatus` value); the review workflow delivers a webhook when it is flagged.
"""

from django.dispatch import Signal

evaluation_finished = Signal()
file_scanned = Signal()
