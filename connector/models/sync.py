"""What the sync pulls from Zoom, computes, and pushes to HubSpot (through an outbox).

Pull: ZoomUser, Webinar, Registrant, RegistrantCount, Session (one held instance), ParticipantRow, Recording.
Compute: PersonStats (the four values of INTERFACES.md §5, per portal and person).
Push: ContactLink (what we know of a person's HubSpot contact), OutboxItem (every intended
HubSpot write, sent in batches and marked sent), SyncRun + SkipRecord (the report and
every skipped webinar/person/recording with its reason), SyncLease (one sync per portal).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from connector.models.tenancy import Portal, ZoomAccount


class SkipReason(models.TextChoices):
    # webinars (INTERFACES.md §6)
    ZOOM_EVENT = "zoom_event", "Part of a Zoom Event (R2)"
    HOST_DOMAIN_EXCLUDED = "host_domain_excluded", "Host's email domain is excluded (R5)"
    USER_NOT_SELECTED = "user_not_selected", "Host is not a selected user (R4)"
    SYNC_MODE_NONE = "sync_mode_none", "Sync webinar data is set to none (R4)"
    WEBINAR_SYNC_OFF = "webinar_sync_off", "Sync is off for this webinar (R8, R10)"
    # people
    NO_EMAIL = "no_email", "Guest without an email address (R3)"
    INVALID_EMAIL = "invalid_email", "Email address is not valid: no contact created"
    INTERNAL_DOMAIN = "internal_domain", "Company's own domain: not created as a contact (R7)"
    ACCOUNT_USER = "account_user", "User of the HubSpot account (R12)"
    SECONDARY_EMAIL = "secondary_email", "Registered with a contact's secondary email (R13)"
    DELETED_CONTACT = "deleted_contact", "Contact was deleted in HubSpot (R14)"
    # recordings
    RECORDINGS_OFF = "recordings_off", "Host's recording sync is off (R9)"
    RECORDING_DOMAIN_EXCLUDED = "recording_domain_excluded", "Host's domain is excluded for recordings (R6)"


class ZoomUser(models.Model):
    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE, related_name="zoom_users")
    zoom_user_id = models.CharField(max_length=100)
    email = models.CharField(max_length=254)  # lower-cased, trimmed
    first_name = models.CharField(max_length=200, blank=True)
    last_name = models.CharField(max_length=200, blank=True)
    user_type = models.SmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "zoom_user_id"], name="uniq_zoom_user")]

    def __str__(self) -> str:
        return self.email


class Webinar(models.Model):
    account = models.ForeignKey(ZoomAccount, on_delete=models.CASCADE, related_name="webinars")
    webinar_id = models.CharField(max_length=30)  # Zoom's numeric id, as text
    uuid = models.CharField(max_length=100, blank=True)
    host_zoom_user_id = models.CharField(max_length=100, blank=True)
    host_email = models.CharField(max_length=254, blank=True)  # lower-cased
    topic = models.CharField(max_length=300, blank=True)
    webinar_type = models.SmallIntegerField(null=True, blank=True)  # 5, 6 (recurring, no fixed time), 9
    start_time = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.IntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    join_url = models.CharField(max_length=1000, blank=True)
    approval_type = models.SmallIntegerField(null=True, blank=True)
    alternative_hosts = models.JSONField(default=list, blank=True)
    zoom_event_id = models.CharField(max_length=100, blank=True)  # non-empty → R2, never synced
    # Set by the latest pull: "" when the webinar passes every rule, else a SkipReason value.
    skip_reason = models.CharField(max_length=40, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "webinar_id"], name="uniq_webinar")]

    def __str__(self) -> str:
        return f"{self.webinar_id} {self.topic}"

    @property
    def is_zoom_event(self) -> bool:
        return bool(self.zoom_event_id)


class Registrant(models.Model):
    webinar = models.ForeignKey(Webinar, on_delete=models.CASCADE, related_name="registrants")
    registrant_id = models.CharField(max_length=100)
    email = models.CharField(max_length=254, db_index=True)  # lower-cased, trimmed
    first_name = models.CharField(max_length=200, blank=True)
    last_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20)  # approved | pending | denied | cancelled
    create_time = models.DateTimeField(null=True, blank=True)
    join_url = models.CharField(max_length=1000, blank=True)
    occurrence_ids = models.JSONField(default=list, blank=True)
    # B6: the registration answers as Zoom lists them, keyed like the settings' mapping:
    # standard field names (`job_title`) and `custom:` + the question's title. {} when none.
    answers = models.JSONField(default=dict, db_default=models.Value({}, output_field=models.JSONField()), blank=True)
    # When a pull last listed this registrant: one no longer listed under any status after a
    # complete pull was cancelled (Zoom does not list cancelled registrants).
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webinar", "registrant_id"], name="uniq_registrant")]


class RegistrantCount(models.Model):
    """B2: how many registrants of one status the last complete listing of a webinar held.

    A scheduled sync asks Zoom for that status's `total_records` (one call of page size 1)
    and lists the status only when the count differs or is unknown (no row). Written only
    after a listing read the status whole; dropped when the webinar's verdict or what the
    contacts show of it changes (its registrants are listed again)."""

    webinar = models.ForeignKey(Webinar, on_delete=models.CASCADE, related_name="registrant_counts")
    status = models.CharField(max_length=20)  # approved | pending | denied
    total = models.IntegerField()
    counted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webinar", "status"], name="uniq_registrant_count")]


class Session(models.Model):
    """One held instance of a webinar (one past-webinar UUID), INTERFACES.md §5."""

    webinar = models.ForeignKey(Webinar, on_delete=models.CASCADE, related_name="sessions")
    uuid = models.CharField(max_length=100)
    occurrence_id = models.CharField(max_length=50, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    scheduled_duration_minutes = models.IntegerField(null=True, blank=True)
    # A finished session whose participants were fully pulled is not pulled again.
    participants_complete = models.BooleanField(default=False)
    recording_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webinar", "uuid"], name="uniq_session")]


class ParticipantRow(models.Model):
    """One participant row as Zoom reports it: a rejoin is another row."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participant_rows")
    row_key = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True, db_index=True)  # "" for guests (R3)
    name = models.CharField(max_length=300, blank=True)
    registrant_id = models.CharField(max_length=100, blank=True)
    join_time = models.DateTimeField(null=True, blank=True)
    leave_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "row_key"], name="uniq_participant_row")]


class Recording(models.Model):
    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="recording")
    share_url = models.CharField(max_length=1000)
    transcript_url = models.CharField(max_length=1000, blank=True)
    # R20: set while Zoom says the transcript is still coming (a TRANSCRIPT file still
    # processing, or a `recording.transcript_completed` not yet read): the recording's events
    # wait until then at the latest, so they carry the transcript URL. None: nothing awaited.
    transcript_wait_until = models.DateTimeField(null=True, blank=True)
    pulled_at = models.DateTimeField(auto_now=True)


class PersonStats(models.Model):
    """The four contact properties of one person (INTERFACES.md §5), as last computed."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="person_stats")
    email = models.CharField(max_length=254)
    first_name = models.CharField(max_length=200, blank=True)
    last_name = models.CharField(max_length=200, blank=True)
    registration_count = models.IntegerField(default=0)
    attended_count = models.IntegerField(default=0)
    average_attendance_percent = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    last_registered_url = models.CharField(max_length=1000, blank=True)
    last_registered_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "email"], name="uniq_person_stats")]


class ContactState(models.TextChoices):
    LINKED = "linked", "Linked to a contact"
    NOT_CREATED = "not_created", "No contact and not to be created (R7)"
    SECONDARY_EMAIL = "secondary_email", "Matches a contact's secondary email (R13)"
    DELETED = "deleted", "Contact deleted in HubSpot (R14)"
    ACCOUNT_USER = "account_user", "HubSpot account user (R12)"


class ContactLink(models.Model):
    """What we know of a person's HubSpot contact, and the property values last written."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="contact_links")
    email = models.CharField(max_length=254)
    contact_id = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=20, choices=ContactState.choices)
    pushed_properties = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "email"], name="uniq_contact_link")]
        indexes = [models.Index(fields=["portal", "contact_id"])]


class OutboxKind(models.TextChoices):
    CONTACT_CREATE = "contact_create"
    CONTACT_UPDATE = "contact_update"
    TIMELINE_EVENT = "timeline_event"
    APP_EVENT = "app_event"
    MARKETING_EVENT = "marketing_event"
    MARKETING_PARTICIPATION = "marketing_participation"


class OutboxStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent per-item error; kept for the report, never retried blindly


class OutboxItem(models.Model):
    """An intended HubSpot write. Unique per (portal, kind, dedupe_key): never enqueued twice."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=30, choices=OutboxKind.choices)
    dedupe_key = models.CharField(max_length=255)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True)
    sync_run = models.ForeignKey("SyncRun", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portal", "kind", "dedupe_key"], name="uniq_outbox_item"),
        ]
        indexes = [models.Index(fields=["portal", "status", "kind", "id"])]


class SyncRunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SyncRun(models.Model):
    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="sync_runs")
    status = models.CharField(max_length=10, choices=SyncRunStatus.choices, default=SyncRunStatus.QUEUED)
    trigger = models.CharField(max_length=20, default="manual")  # manual | beat | cli | workflow
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.JSONField(default=dict, blank=True)  # {"phase": ..., "done": n, "total": m}
    report = models.JSONField(default=dict, blank=True)  # INTERFACES.md §6
    error = models.TextField(blank=True)
    # What kind of failure (connector.clients.errors.sync_error_code), for the UI's words.
    error_code = models.CharField(max_length=30, blank=True)
    retrying = models.BooleanField(default=False)  # failed, and the task will try again
    number = models.PositiveIntegerField(null=True, blank=True)  # 1, 2, 3 … per portal
    # The pipeline's persisted state (services/pipeline.py): the stage reached, who works on
    # it (and when they last said so), what was asked for.
    phase = models.CharField(max_length=20, blank=True)  # "" | pull | webinars | finish | done
    owner = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    full = models.BooleanField(default=False)
    # Zoom webinar ids of a targeted sync (a webhook, a workflow registration); null = all.
    webinar_ids = models.JSONField(null=True, blank=True)
    # Asked for again while it ran: one more run follows it, with these parameters.
    requested_again = models.BooleanField(default=False)
    again_full = models.BooleanField(default=False)
    again_webinar_ids = models.JSONField(null=True, blank=True)
    # B2: the push has handled every person (PersonStats pk) up to here: a run continued
    # after its worker died goes on after it instead of reading everyone again.
    push_after_pk = models.BigIntegerField(default=0)
    # B2: when the finish stage first took its change scope; a continued run keeps it, so
    # changes marked after it stay marked for the next run.
    scope_snapshot_at = models.DateTimeField(null=True, blank=True)
    scope_rules_fingerprint = models.CharField(max_length=64, blank=True)  # the settings of that scope

    class Meta:
        indexes = [
            models.Index(fields=["portal", "-created_at"]),
            models.Index(fields=["portal", "status"]),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.number is None and self.portal_id:
            last = SyncRun.objects.filter(portal_id=self.portal_id).aggregate(n=models.Max("number"))["n"]
            self.number = (last or 0) + 1
        super().save(*args, **kwargs)


class SkipRecord(models.Model):
    sync_run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="skips")
    kind = models.CharField(max_length=10)  # webinar | person | recording
    reason = models.CharField(max_length=40, choices=SkipReason.choices)
    subject = models.CharField(max_length=300)  # email, webinar id, or session uuid
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["sync_run", "kind", "reason"])]


class SyncLease(models.Model):
    """One sync per portal at a time: a worker holds the lease until it expires or releases it."""

    portal = models.OneToOneField(Portal, on_delete=models.CASCADE, related_name="sync_lease")
    owner = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    sync_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)


class SyncRunPart(models.Model):
    """One part of a sync run fanned out to Celery workers (docs/sync.md, "Celery").

    `webinar` null: the account-level pull (users, Zoom Events, webinar listing and
    verdicts), whose `state` also holds the lease owner and `full`. Otherwise one synced
    webinar's pull (registrants, sessions, participants, recordings). `state` keeps what
    the part counted for the report (pulled, skips, errors, API calls), so the counts survive
    the worker; a re-run of a part overwrites its row (unique per run and webinar).
    """

    sync_run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="parts")
    webinar = models.ForeignKey(Webinar, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    listed = models.BooleanField(default=True)  # listed by Zoom in this run (not expired)
    attempts = models.PositiveIntegerField(default=0)  # executions of the part's task
    done = models.BooleanField(default=False)
    state = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sync_run", "webinar"], name="sync_run_part_unique"),
        ]


class DirtyPerson(models.Model):
    """A person whose rows changed since their values were last pushed (B2): compute and push
    look at these people only (a full reconciliation looks at everyone). Set in the same
    transaction as the change; cleared once the push wrote them."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="dirty_people")
    email = models.CharField(max_length=254)
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "email"], name="uniq_dirty_person")]


class PortalSyncState(models.Model):
    """What the pipeline remembers of a portal between runs (B2): the settings the last
    compute used (a change recomputes everyone), the HubSpot definitions checked once (the
    property group, properties and templates) and the account's users (R12), re-checked by a
    full reconciliation."""

    portal = models.OneToOneField(Portal, on_delete=models.CASCADE, related_name="sync_state")
    rules_fingerprint = models.CharField(max_length=64, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)  # the last compute's start
    schema_fingerprint = models.CharField(max_length=64, blank=True)
    template_ids = models.JSONField(default=dict, blank=True)
    account_users = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)  # schema and account users
