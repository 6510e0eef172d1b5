"""Settings UI views: parse the request, call one selector/service, render. Login required
everywhere; every portal page 404s for a user who is not a member of the portal."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connector.models import Portal
from connector.selectors import portals_for_user, sync_rules_get, zoom_user_domains
from connector.services.registration_questions import (
    question_label,
    registration_questions_overview,
)
from connector.services.sync_settings import email_normalize
from settings_ui import charts, selectors, services
from settings_ui.forms import (
    EventSinksForm,
    GlobalSettingsForm,
    RegistrationQuestionsForm,
    SettingsImportForm,
    UserSettingsForm,
)
from settings_ui.models import AuditAction

PortalView = Callable[..., HttpResponse]


def portal_view(view: PortalView) -> PortalView:
    """Login required, then the portal by HubSpot id, if the user is a member (404 otherwise)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, hub_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        portal = selectors.portal_for_user_get(user=request.user, hub_id=hub_id)
        return view(request, portal, *args, **kwargs)

    return wrapper


def _ctx(request: HttpRequest, portal: Portal | None, section: str, **extra: Any) -> dict[str, Any]:
    return {
        "portal": portal,
        "section": section,
        "user_portals": portals_for_user(user=request.user),
        "oauth_setup": selectors.oauth_setup_get(),
        **extra,
    }


def _apply_import_error(form: Any, exc: ValidationError) -> None:
    """Errors from settings_document_parse name their key ("excluded_host_domains: ..."):
    show them next to that field when the form has it, else at the top."""
    for message in exc.messages:
        key = message.split(":", 1)[0].strip() if ":" in message else ""
        if key in form.fields:
            form.add_error(key, message.split(":", 1)[1].strip())
        else:
            form.add_error(None, message)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    portals = portals_for_user(user=request.user)
    if len(portals) == 1:
        return redirect("settings_ui:dashboard", hub_id=portals[0].hub_id)
    return render(request, "settings_ui/portal_list.html", _ctx(request, None, "portals", portals=portals))


@portal_view
@require_GET
def connections(request: HttpRequest, portal: Portal) -> HttpResponse:
    accounts = list(portal.zoom_accounts.order_by("-is_primary_business_unit", "business_unit_id", "account_id"))
    return render(request, "settings_ui/connections.html", _ctx(request, portal, "connections", accounts=accounts))


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm") == "1"


@portal_view
@require_http_methods(["GET", "POST"])
def global_settings(request: HttpRequest, portal: Portal) -> HttpResponse:
    rules = sync_rules_get(portal=portal)
    users = selectors.zoom_users_list(portal=portal, rules=rules)
    user_emails = [u.email for u in users if u.known]
    domains = zoom_user_domains(portal=portal)
    kwargs: dict[str, Any] = {"user_emails": user_emails, "user_domains": domains, "user_names": {u.email: u.name for u in users}}
    impact = None
    if request.method == "POST":
        form = GlobalSettingsForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                document = services.settings_document_merge(portal=portal, changes=form.changes())
                impact = selectors.settings_change_impact(portal=portal, document=document)
                if impact.changes_hubspot and not _confirmed(request):
                    # Say what the change will do before it is saved (issue 14, item 4).
                    return render(request, "settings_ui/global_settings.html", _ctx(
                        request, portal, "settings", form=form, impact=impact, sync_mode=rules.sync_mode,
                    ))
                services.settings_document_save(
                    portal=portal, user=request.user, document=document, source="global settings"
                )
            except ValidationError as exc:
                _apply_import_error(form, exc)
            else:
                messages.success(request, "Global settings saved.")
                return redirect("settings_ui:global-settings", hub_id=portal.hub_id)
    else:
        form = GlobalSettingsForm(initial=selectors.settings_document_get(portal=portal), **kwargs)
    return render(request, "settings_ui/global_settings.html", _ctx(
        request, portal, "settings", form=form, impact=None, sync_mode=rules.sync_mode,
    ))


@portal_view
@require_GET
def zoom_users(request: HttpRequest, portal: Portal) -> HttpResponse:
    users = selectors.zoom_users_list(portal=portal)
    return render(request, "settings_ui/zoom_users.html", _ctx(request, portal, "users", users=users))


@portal_view
@require_http_methods(["GET", "POST"])
def zoom_user_detail(request: HttpRequest, portal: Portal, email: str) -> HttpResponse:
    email = email_normalize(email)
    rules = sync_rules_get(portal=portal)
    row = next((u for u in selectors.zoom_users_list(portal=portal, rules=rules) if u.email == email), None)
    if row is None:
        raise Http404("No such Zoom user")
    webinar_rows = selectors.user_webinars_list(portal=portal, email=email, rules=rules)
    if request.method == "POST":
        form = UserSettingsForm(request.POST, webinar_rows=webinar_rows)
        if form.is_valid():
            changes = form.changes(email=email, explicit=set(rules.webinars))
            try:
                document = services.settings_document_merge(portal=portal, changes=changes)
                impact = selectors.settings_change_impact(portal=portal, document=document)
                if impact.changes_hubspot and not _confirmed(request):
                    return render(request, "settings_ui/zoom_user.html", _ctx(
                        request, portal, "users", form=form, zoom_user=row, rules=rules, impact=impact,
                    ))
                services.settings_document_save(
                    portal=portal, user=request.user, document=document, source=f"user {email}"
                )
            except ValidationError as exc:
                _apply_import_error(form, exc)
            else:
                messages.success(request, f"Settings for {email} saved.")
                return redirect("settings_ui:zoom-user", hub_id=portal.hub_id, email=email)
    else:
        form = UserSettingsForm(
            initial={
                "sync_new_webinars_by_default": row.sync_new_webinars_by_default,
                "sync_recordings": row.sync_recordings,
            },
            webinar_rows=webinar_rows,
        )
    return render(
        request, "settings_ui/zoom_user.html",
        _ctx(request, portal, "users", form=form, zoom_user=row, rules=rules, impact=None),
    )


@portal_view
@require_http_methods(["GET", "POST"])
def event_sinks(request: HttpRequest, portal: Portal) -> HttpResponse:
    if request.method == "POST":
        form = EventSinksForm(request.POST)
        if form.is_valid():
            try:
                services.settings_update(portal=portal, user=request.user, changes=form.changes(), source="event sinks")
            except ValidationError as exc:
                _apply_import_error(form, exc)
            else:
                messages.success(request, "Activity settings saved.")
                return redirect("settings_ui:event-sinks", hub_id=portal.hub_id)
    else:
        form = EventSinksForm(initial={"event_sinks": selectors.settings_document_get(portal=portal)["event_sinks"]})
    return render(request, "settings_ui/event_sinks.html", _ctx(request, portal, "sinks", form=form))


def _question_error(message: str) -> str:
    """A settings error about one mapping entry, in the question's own words."""
    head, sep, rest = message.partition(": ")
    if sep and head.startswith("registration_fields."):
        return f"{question_label(head.removeprefix('registration_fields.'))}: {rest}"
    return message.removeprefix("registration_fields: ")


@portal_view
@require_http_methods(["GET", "POST"])
def registration_questions(request: HttpRequest, portal: Portal) -> HttpResponse:
    """B6: map Zoom registration questions to HubSpot contact properties."""
    if request.method == "POST":
        form = RegistrationQuestionsForm(request.POST, keys=RegistrationQuestionsForm.posted_keys(request.POST))
        if form.is_valid():
            try:
                services.settings_update(
                    portal=portal, user=request.user, changes=form.changes(), source="registration questions"
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, _question_error(message))
            else:
                messages.success(request, "Registration questions saved.")
                return redirect("settings_ui:registration-questions", hub_id=portal.hub_id)
    overview = registration_questions_overview(portal=portal)
    if request.method != "POST":
        initial: dict[str, Any] = {
            "registration_answers_to_contacts": selectors.settings_document_get(portal=portal).get(
                "registration_answers_to_contacts", False
            )
        }
        for i, row in enumerate(overview.rows):
            initial[f"key_{i}"], initial[f"property_{i}"] = row.key, row.mapped_to
        form = RegistrationQuestionsForm(initial=initial, keys=[r.key for r in overview.rows])
    posted = form.data if form.is_bound else {}
    rows = [
        {"row": row, "index": i, "chosen": posted.get(f"property_{i}", row.mapped_to) if posted else row.mapped_to}
        for i, row in enumerate(overview.rows)
    ]
    return render(
        request,
        "settings_ui/registration_questions.html",
        _ctx(request, portal, "questions", form=form, rows=rows, properties=overview.properties,
             problems=overview.problems),
    )


@portal_view
@require_GET
def settings_export(request: HttpRequest, portal: Portal) -> HttpResponse:
    """The §4 document, byte for byte what `sync_settings export` prints."""
    body = json.dumps(selectors.settings_document_get(portal=portal), indent=2, sort_keys=True) + "\n"
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="zoomsync-settings-{portal.hub_id}.json"'
    return response


@portal_view
@require_http_methods(["GET", "POST"])
def settings_import(request: HttpRequest, portal: Portal) -> HttpResponse:
    preview: dict[str, Any] | None = None
    if request.method == "POST":
        try:
            form = SettingsImportForm(request.POST, request.FILES)
        except RequestDataTooBig:
            # The body is over DATA_UPLOAD_MAX_MEMORY_SIZE: Django cannot read it at all.
            form = SettingsImportForm.refused(SettingsImportForm.paste_too_large_message())
        else:
            preview = _import_preview(request, portal, form)
            if preview is not None and preview.get("saved"):
                return redirect("settings_ui:import", hub_id=portal.hub_id)
    else:
        form = SettingsImportForm()
    current = json.dumps(selectors.settings_document_get(portal=portal), indent=2, sort_keys=True)
    return render(request, "settings_ui/import_export.html", _ctx(
        request, portal, "import", form=form, current=current, preview=preview,
        max_megabytes=SettingsImportForm.MAX_BYTES // 1_000_000,
        paste_max_bytes=SettingsImportForm.paste_max_bytes(),
    ))


def _import_preview(request: HttpRequest, portal: Portal, form: SettingsImportForm) -> dict[str, Any] | None:
    """Validate (listing every error), then show what would change; save only once confirmed."""
    if not form.is_valid():
        return None
    document = form.cleaned_data["parsed"]
    errors = selectors.settings_document_errors(document)
    if errors:
        for message in errors:
            form.add_error(None, message)
        return None
    before = selectors.settings_document_get(portal=portal)
    try:
        after = _normalised(document)
        impact = selectors.settings_change_impact(portal=portal, document=document)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return None
    diff = services.settings_diff(old=before, new=after)
    if _confirmed(request):
        try:
            _, entry = services.settings_document_save(
                portal=portal, user=request.user, document=document,
                source="import", action=AuditAction.SETTINGS_IMPORTED,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
            return None
        messages.success(
            request, "Settings imported." if entry else "Settings imported: they were identical, nothing changed."
        )
        return {"saved": True}
    rows = selectors.audit_diff_in_words(portal=portal, diff=diff)
    return {"rows": rows, "impact": impact, "identical": not diff}


def _normalised(document: Any) -> dict[str, Any]:
    from connector.services.sync_settings import settings_document_parse

    return settings_document_parse(document).as_dict()


@portal_view
@require_GET
def audit_log(request: HttpRequest, portal: Portal) -> HttpResponse:
    entries = selectors.audit_entries_in_words(portal=portal, entries=selectors.audit_log_list(portal=portal))
    return render(request, "settings_ui/audit_log.html", _ctx(request, portal, "audit", entries=entries))


# --- sync dashboard -------------------------------------------------------------------------------


def _run_row(run: Any) -> dict[str, Any]:
    return {
        "run": run, "state": selectors.run_state(run), "trigger": selectors.run_trigger_words(run),
        **selectors.run_summary(run),
    }


@portal_view
@require_GET
def dashboard(request: HttpRequest, portal: Portal) -> HttpResponse:
    runs = selectors.sync_runs_recent(portal=portal)
    rows = [_run_row(r) for r in runs]
    chron = list(reversed(rows))
    runs_svg = charts.runs_chart(runs=[
        {
            "label": (r["run"].started_at or r["run"].created_at).strftime("%d %b %H:%M UTC"),
            "written": r["contacts_created"] + r["contacts_updated"],
            "skipped": r["people_skipped"],
            "failed": r["run"].status == "failed",
        }
        for r in chron
    ])
    series = selectors.webinar_attendance_series(portal=portal)
    webinars_svg = charts.bar_chart(
        title="Registrations and attendance per webinar",
        labels=[s["label"] for s in series],
        series={
            "registrations": [float(s["registrations"]) for s in series],
            "attendees": [float(s["attendees"]) for s in series],
        },
        y_label="people",
        integer=True,
    )
    held = selectors.webinars_with_sessions(portal=portal)
    chosen_id = request.GET.get("webinar") or (held[0].webinar_id if held else "")
    chosen = next((w for w in held if w.webinar_id == chosen_id), None)
    histogram_svg = None
    if chosen is not None:
        histogram_svg = charts.histogram(
            title=f"Attendance % distribution: {chosen.topic or 'Untitled webinar'}",
            values=selectors.webinar_attendance_percentages(portal=portal, webinar_id=chosen.webinar_id),
        )
    return render(request, "settings_ui/dashboard.html", _ctx(
        request, portal, "dashboard",
        rows=rows, active=selectors.sync_run_active(portal=portal),
        runs_svg=runs_svg, webinars_svg=webinars_svg, histogram_svg=histogram_svg,
        held=held, chosen=chosen, sync_mode=sync_rules_get(portal=portal).sync_mode,
    ))


@portal_view
@require_POST
def sync_now(request: HttpRequest, portal: Portal) -> HttpResponse:
    try:
        run = services.sync_now_start(portal=portal, user=request.user)
    except services.SyncUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("settings_ui:dashboard", hub_id=portal.hub_id)
    messages.info(request, "Sync started.")
    return redirect("settings_ui:run", hub_id=portal.hub_id, run_id=run.id)


@portal_view
@require_GET
def run_detail(request: HttpRequest, portal: Portal, run_id: int) -> HttpResponse:
    run = selectors.sync_run_get(portal=portal, run_id=run_id)
    q = request.GET.get("q", "")
    groups = selectors.skip_groups_for_run(run=run, q=q)
    selectors.skip_subjects_describe(run=run, groups=groups)
    finished = run.finished_at is not None and not run.retrying
    return render(request, "settings_ui/run_detail.html", _ctx(
        request, portal, "dashboard",
        run=run, summary=selectors.run_summary(run), groups=groups, q=q,
        state=selectors.run_state(run), error_help=selectors.run_error_help(run),
        progress=selectors.progress_view(run.progress, finished=finished),
        finished=finished,
        progress_url=reverse("settings_ui:run-progress", kwargs={"hub_id": portal.hub_id, "run_id": run.id}),
        report_json=json.dumps(run.report, indent=2, sort_keys=True) if run.report else "",
    ))


@portal_view
@require_GET
def run_progress(request: HttpRequest, portal: Portal, run_id: int) -> JsonResponse:
    """Polled by the run page's script until `finished` is true."""
    run = selectors.sync_run_get(portal=portal, run_id=run_id)
    finished = run.finished_at is not None and not run.retrying
    state = selectors.run_state(run)
    progress = selectors.progress_view(run.progress, finished=finished)
    return JsonResponse({
        "number": run.number,
        "status": state.key,
        "status_words": state.words,
        "finished": finished,
        "text": progress["text"],
        "percent": progress["percent"],
        "summary": {k: v for k, v in selectors.run_summary(run).items() if k != "errors"},
        "errors": selectors.run_summary(run)["errors"],
    })

