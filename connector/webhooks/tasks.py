"""Webhook tasks: thin, take an inbox id, call one service (connector/webhooks/services.py).

`webhook_event_process_task` (queue "realtime") processes one event; an event that must wait
(a refresh already running, a participant report not complete, a failure) is queued again with
its backoff, and an event of a burst waits a few seconds for the rest of it (one refresh for a
batch's worth; the task of the burst's oldest event watches, and hands the watch on when that
event is done on its own). `webhook_inbox_drain_task` (beat, every minute) picks up events whose retry time
has come or that no task picked up. With no broker (tasks eager), the work runs in-process
before the webhook's answer, and due retries are drained at the next event.
"""

from __future__ import annotations

from celery import shared_task

from connector.webhooks import services


def _eager() -> bool:
    return bool(webhook_event_process_task.app.conf.task_always_eager)


@shared_task(name="connector.tasks.webhook_event_process_task", queue="realtime", acks_late=True,
             time_limit=30 * 60, soft_time_limit=25 * 60)
def webhook_event_process_task(event_id: int) -> str:
    # A worker gathers a burst before its refresh; in-process (eager) work goes at once.
    result = services.webhook_event_process(event_id=event_id, gather=not _eager())
    if result.retry_in is not None and not _eager():
        webhook_event_process_task.apply_async((event_id,), countdown=result.retry_in)
    if result.then is not None and not _eager():
        webhook_event_process_task.delay(result.then)  # the burst's watch passes to its next oldest
    elif _eager():
        for due in services.webhook_events_due(limit=50):
            if due != event_id:
                services.webhook_event_process(event_id=due)
    return str(result.status)


@shared_task(name="connector.tasks.webhook_inbox_drain_task", queue="realtime", acks_late=True,
             time_limit=120, soft_time_limit=100)
def webhook_inbox_drain_task() -> int:
    """Beat: events due for another try (or never picked up) are queued again."""
    due = services.webhook_events_due()
    for event_id in due:
        if _eager():
            services.webhook_event_process(event_id=event_id)
        else:
            webhook_event_process_task.delay(event_id)
    return len(due)
