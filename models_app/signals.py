"""What the catalog tells the apps above it, without knowing them.

`file_uploaded` is sent after an upload is committed, with `file_id`; the evaluation app
listens to scan the file.
"""

from django.dispatch import Signal

file_uploaded = Signal()
