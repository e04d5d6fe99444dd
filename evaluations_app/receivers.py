"""What evaluation does when the catalog has news: it only enqueues."""

from .tasks import scan_enqueue


def file_uploaded(sender, *, file_id: int, **kwargs) -> None:
    """Every upload is scanned; a file the broker could not take is found by the sweep."""
    scan_enqueue(file_id=file_id)
