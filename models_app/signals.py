"""What the catalog tells the apps above it, without knowing them.

- `file_uploaded` is sent after an upload is committed, with `file_id`; the evaluation app
  listens to scan the file.
- `alias_moved` is sent after an alias change is committed, with `model_id`, `alias` (its
  name), `from_version_id` and `to_version_id` (either may be None: created, deleted) and
  `actor_id`; the review workflow listens to deliver webhooks.
"""

from django.dispatch import Signal

file_uploaded = Signal()
alias_moved = Signal()
