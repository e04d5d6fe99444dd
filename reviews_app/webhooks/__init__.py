"""Signed webhooks: an owner's URLs told of their model's events.

- `models.py`: the webhook (URL, secret, events), each event (its body serialised once) and
  one delivery per webhook and event (idempotent: unique together), with its log.
- `events.py`: `emit(...)`, called by the services inside their transaction; the deliveries are
  enqueued after commit, and swept up later when the broker refused them.
- `ssrf.py`: which URLs may be called (checked when saved and again at each delivery).
- `delivery.py`: one attempt (claimed with a conditional update, sent to the checked address).
- `tasks.py`: the Celery task, its backoff and the sweep.
- `services.py`: create, change, delete, rotate the secret, send a test event, redeliver.
- `receivers.py`: the signals of the apps below (evaluations, scans, aliases) as events.
"""
