"""Forms of the settings UI. They parse and validate input and return the settings-document
changes; storing goes through settings_ui.services (and so through sync_settings_import)."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.forms.utils import ErrorDict

from connector.models import SyncMode
from connector.services.sync_settings import EVENT_SINKS, domain_normalize, email_normalize

EVENT_SINK_CHOICES = [
    ("timeline", "Timeline events (contact timeline: registration, attendance, recording)"),
    ("app_events", "App events (HubSpot's app events API)"),
    ("marketing_events", "Marketing events (one per webinar session; registered / attended / cancelled)"),
]
assert [c for c, _ in EVENT_SINK_CHOICES] == list(EVENT_SINKS)  # noqa: S101 - catches drift at import


def _lines(value: str) -> list[str]:
    """One entry per line; commas and semicolons also separate, blanks are ignored."""
    out = []
    for line in value.replace(",", "\n").replace(";", "\n").splitlines():
        line = line.strip()
        if line:
            out.append(line)
    return out


class DomainListField(forms.CharField):
    """A textarea of domains, one per line: each normalised (IDN → punycode); duplicates refused.

    Every bad line gets its own message, so the admin fixes all of them in one go.
    """

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        value = super().clean(value) or ""
        errors: list[str] = []
        seen: dict[str, str] = {}
        out: list[str] = []
        for raw in _lines(value):
            try:
                domain = domain_normalize(raw)
            except ValidationError as exc:
                errors.extend(exc.messages)
                continue
            if domain in seen:
                same = "" if seen[domain] == raw else f" (same as {seen[domain]!r})"
                errors.append(f"{raw!r} is listed twice{same}")
                continue
            seen[domain] = raw
            out.append(domain)
        if errors:
            raise ValidationError(errors)
        return out


class GlobalSettingsForm(forms.Form):
    """R4, R5, R6, R7: sync webinar data for none/all/selected users; host, recording, contact exclusions."""

    sync_mode = forms.ChoiceField(
        label="Sync webinar data",
        choices=SyncMode.choices,
        widget=forms.RadioSelect,
        help_text="Whose webinars are synced: no Zoom users, all of them, or only the users selected below.",  # R4
    )
    selected_users = forms.MultipleChoiceField(
        label="Selected Zoom users", required=False, widget=forms.CheckboxSelectMultiple,
    )
    selected_users_other = forms.CharField(
        label="Other Zoom users (emails, one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "autocapitalize": "off"}),
        help_text="For users not yet pulled from Zoom.",
    )
    excluded_host_domains = DomainListField(
        label="Exclusions: host email domains",
        help_text="Webinars hosted by users with an email at these domains are not synced. One per line.",  # R5
    )
    excluded_recording_domains_picked = forms.MultipleChoiceField(
        label="Recording exclusions: your Zoom users' domains",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    excluded_recording_domains = DomainListField(
        label="Recording exclusions: other domains",
        help_text="Recordings of users with these email domains are not synced. One per line.",  # R6
    )
    excluded_contact_domains = DomainListField(
        label="Contact exclusions: your company's own domains",
        help_text="People with an email at these domains are not created as new contacts: your employees.",  # R7
    )

    def __init__(
        self, *args: Any, user_emails: list[str], user_domains: list[str],
        user_names: dict[str, str] | None = None, **kwargs: Any,
    ) -> None:
        initial = kwargs.get("initial")
        if initial is not None:
            # Split the stored lists between the pick lists and the free-text boxes.
            initial = dict(initial)
            selected = initial.get("selected_users", [])
            initial["selected_users"] = [e for e in selected if e in user_emails]
            initial["selected_users_other"] = "\n".join(e for e in selected if e not in user_emails)
            rec = initial.get("excluded_recording_domains", [])
            initial["excluded_recording_domains_picked"] = [d for d in rec if d in user_domains]
            initial["excluded_recording_domains"] = [d for d in rec if d not in user_domains]
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        names = user_names or {}
        cast(forms.MultipleChoiceField, self.fields["selected_users"]).choices = [(e, f"{e} · {names[e]}" if names.get(e) else e) for e in user_emails]
        cast(forms.MultipleChoiceField, self.fields["excluded_recording_domains_picked"]).choices = [(d, d) for d in user_domains]

    def clean_selected_users_other(self) -> list[str]:
        errors, out = [], []
        for raw in _lines(self.cleaned_data.get("selected_users_other", "")):
            try:
                validate_email(raw)
            except ValidationError:
                errors.append(f"{raw!r} is not an email address")
                continue
            out.append(email_normalize(raw))
        if errors:
            raise ValidationError(errors)
        return out

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("sync_mode") == SyncMode.SELECTED and not (
            data.get("selected_users") or data.get("selected_users_other")
        ):
            self.add_error("selected_users", "Pick at least one Zoom user, or choose 'No users'.")
        return data

    def changes(self) -> dict[str, Any]:
        """The settings-document keys this form owns, from cleaned data."""
        d = self.cleaned_data
        selected = list(dict.fromkeys(list(d["selected_users"]) + d["selected_users_other"]))
        recording = list(dict.fromkeys(list(d["excluded_recording_domains_picked"]) + d["excluded_recording_domains"]))
        return {
            "sync_mode": d["sync_mode"],
            "selected_users": selected,
            "excluded_host_domains": d["excluded_host_domains"],
            "excluded_recording_domains": recording,
            "excluded_contact_domains": d["excluded_contact_domains"],
        }


class UserSettingsForm(forms.Form):
    """R8, R9 for one Zoom user, plus R10's switch per webinar (fields `webinar_<id>`)."""

    sync_new_webinars_by_default = forms.BooleanField(
        label="Sync data from newly scheduled webinars by default",
        required=False,
        help_text="A webinar this user schedules later is synced without anyone ticking it.",  # R8
    )
    sync_recordings = forms.BooleanField(
        label="Sync this user's webinar recordings and transcripts",
        required=False,
        help_text="Adds a 'Zoom: Recording available' event for attendees and registrants.",  # R9 R20
    )

    def __init__(self, *args: Any, webinar_rows: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.webinar_rows = webinar_rows
        for row in webinar_rows:
            w = row.webinar
            self.fields[f"webinar_{w.webinar_id}"] = forms.BooleanField(
                label=w.topic or f"Webinar {w.webinar_id}",
                required=False,
                initial=row.sync,
                # Rendered disabled; a posted "on" is refused in clean() rather than ignored.
                widget=forms.CheckboxInput(attrs={"disabled": True} if not row.syncable else {}),
            )

    def webinar_fields(self) -> list[tuple[Any, forms.BoundField]]:
        return [(row, self[f"webinar_{row.webinar.webinar_id}"]) for row in self.webinar_rows]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for row in self.webinar_rows:
            name = f"webinar_{row.webinar.webinar_id}"
            if not row.syncable and data.get(name):
                self.add_error(name, "Webinars of Zoom Events cannot be synced.")  # R2
        return data

    def changes(self, *, email: str, explicit: set[str]) -> dict[str, Any]:
        """R8/R9 for the user; an R10 switch is stored only where it differs from the R8
        default or was already set, so untouched webinars keep following the default."""
        d = self.cleaned_data
        default = d["sync_new_webinars_by_default"]
        webinars: dict[str, Any] = {}
        for row in self.webinar_rows:
            wid = str(row.webinar.webinar_id)
            if not row.syncable:
                continue
            value = bool(d.get(f"webinar_{wid}"))
            if wid in explicit or value != default:
                webinars[wid] = {"sync": value}
        return {
            "users": {email: {"sync_new_webinars_by_default": default, "sync_recordings": d["sync_recordings"]}},
            "webinars": webinars,
        }


class EventSinksForm(forms.Form):
    event_sinks = forms.MultipleChoiceField(
        label="Send Zoom activity to HubSpot as",
        choices=EVENT_SINK_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one place to send events."},
    )

    def changes(self) -> dict[str, Any]:
        # Keep the canonical order of EVENT_SINKS, whatever order the browser posted.
        chosen = set(self.cleaned_data["event_sinks"])
        return {"event_sinks": [s for s in EVENT_SINKS if s in chosen]}


class SettingsImportForm(forms.Form):
    """Upload a settings document (INTERFACES.md §4) or paste it; the text is kept on error."""

    file = forms.FileField(label="Settings file (JSON)", required=False)
    document = forms.CharField(
        label="…or paste the JSON document",
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "mono"}),
    )

    # A file may be up to 10 MB (file parts do not count towards DATA_UPLOAD_MAX_MEMORY_SIZE);
    # a paste is a form field, so it must stay under that limit: paste_max_bytes() keeps a
    # margin below it, so a paste just over is a form error that keeps the text. The export of
    # 60,000 domains (about 1.5 MB) fits both.
    MAX_BYTES = 10_000_000

    @classmethod
    def paste_max_bytes(cls) -> int:
        from django.conf import settings

        body = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or cls.MAX_BYTES
        return min(cls.MAX_BYTES, max(body - 100_000, body // 2))

    @classmethod
    def refused(cls, message: str) -> SettingsImportForm:
        """A form for a request whose body could not be read at all: only the message."""
        form = cls(data={})
        form.cleaned_data = {}
        form._errors = ErrorDict()  # type: ignore[attr-defined]  # set by full_clean() otherwise
        form.add_error(None, message)
        return form

    @classmethod
    def too_large_message(cls) -> str:
        return (
            f"The document is larger than {cls.MAX_BYTES // 1_000_000} MB, more than a settings document "
            "can be. Check that you chose the right file."
        )

    @classmethod
    def paste_too_large_message(cls) -> str:
        return (
            f"The pasted text is larger than {cls.paste_max_bytes() / 1_000_000:.1f} MB, more than can be "
            f"pasted: save it to a file and upload that instead (up to {cls.MAX_BYTES // 1_000_000} MB)."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = data.get("document") or ""
        upload = data.get("file")
        if upload is not None:
            if upload.size > self.MAX_BYTES:
                raise ValidationError(self.too_large_message())
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise ValidationError("The file is not UTF-8 text.") from exc
            # Keep what was uploaded in the textarea, so nothing is lost if it is refused.
            kept = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
            kept["document"] = text
            self.data = kept
        if not text.strip():
            raise ValidationError("Choose a file or paste a settings document.")
        if upload is None and len(text.encode("utf-8")) > self.paste_max_bytes():
            raise ValidationError(self.paste_too_large_message())
        try:
            data["parsed"] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from exc
        return data


class RegistrationQuestionsForm(forms.Form):
    """B6: one contact property per Zoom registration question (blank = not mapped), and
    whether registrants' answers are written to contacts. The question keys travel as hidden
    fields, so saving needs no call to Zoom; the settings document validates them."""

    MAX_QUESTIONS = 500

    registration_answers_to_contacts = forms.BooleanField(
        label="Write registrants' answers to these contact properties",
        help_text="Only where the contact has no value yet; an existing value is never overwritten.",
        required=False,
    )

    def __init__(self, *args: Any, keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = keys[: self.MAX_QUESTIONS]
        for i, key in enumerate(self.keys):
            self.fields[f"key_{i}"] = forms.CharField(widget=forms.HiddenInput, initial=key, max_length=400)
            self.fields[f"property_{i}"] = forms.CharField(required=False, max_length=100)

    @classmethod
    def posted_keys(cls, data: Any) -> list[str]:
        try:
            count = min(int(data.get("count", 0)), cls.MAX_QUESTIONS)
        except (TypeError, ValueError):
            count = 0
        return [str(data.get(f"key_{i}", "")) for i in range(max(count, 0))]

    def changes(self) -> dict[str, Any]:
        fields: dict[str, str] = {}
        for i in range(len(self.keys)):
            prop = (self.cleaned_data.get(f"property_{i}") or "").strip()
            key = (self.cleaned_data.get(f"key_{i}") or "").strip()
            if prop and key:
                fields[key] = prop
        return {
            "registration_fields": fields,
            "registration_answers_to_contacts": bool(self.cleaned_data.get("registration_answers_to_contacts")),
        }
