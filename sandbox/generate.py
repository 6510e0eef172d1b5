"""Large synthetic scenarios for benchmarks (`python manage.py sandbox generate`).

Deterministic for a seed. Built as plain dicts in one pass (O(registrants)), so 100,000
registrants take a second or two. Registrations are spread evenly over the webinars; each
registration is a distinct person unless `people` is smaller than `registrants`.

Issue 5 extensions (off by default, so existing seeds give the same data): `recurring_every`
N makes every Nth webinar a recurring one (type 9) with `occurrences` weekly occurrences, all
held, each its own instance (its attendees drawn per occurrence); `recording_rate` gives each
held instance a cloud recording with that probability, with a transcript file with
probability `transcript_rate`. Cancelled and denied registrations are always mixed in.

A single-session webinar's `uuid` is the uuid of its held instance (real Zoom gives a
non-recurring webinar one UUID, the same in /webinars/{id} and /past_webinars/{id}/instances).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

DOMAINS = ("example.com", "example.org", "example.net", "globex.example", "initech.example",
           "hooli.example", "umbrella.example", "stark.example")


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario_generate(
    *,
    webinars: int,
    registrants: int,
    attendance_rate: float = 0.6,
    rejoin_rate: float = 0.1,
    guest_rate: float = 0.05,
    seed: int = 1,
    people: int | None = None,
    hosts: int = 3,
    existing_contact_rate: float = 0.2,
    start: datetime | None = None,
    recurring_every: int = 0,
    occurrences: int = 3,
    recording_rate: float = 0.0,
    transcript_rate: float = 0.5,
) -> dict[str, Any]:
    if webinars < 1:
        raise ValueError("webinars must be at least 1")
    if registrants < 0:
        raise ValueError("registrants must be >= 0")
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    people = people or max(registrants, 1)
    start = start or datetime(2026, 9, 1, 15, tzinfo=UTC)
    users = [{"id": f"zu_host_{h + 1}", "email": f"host{h + 1}@acme.com",
              "first_name": "Host", "last_name": str(h + 1), "type": 2, "status": "active"}
             for h in range(max(1, hosts))]

    def person(i: int) -> tuple[str, str, str]:
        return (f"person{i:06d}@{DOMAINS[i % len(DOMAINS)]}", f"First{i}", f"Last{i}")

    base, extra = divmod(registrants, webinars)
    webinar_list = []
    next_person = 0
    for w in range(webinars):
        wid = 85_000_000_000 + w + 1
        w_start = start + timedelta(days=w)
        recurring = recurring_every > 0 and (w + 1) % recurring_every == 0
        starts = [w_start + timedelta(days=7 * k) for k in range(max(1, occurrences) if recurring else 1)]
        regs = []
        held: list[list[dict[str, Any]]] = [[] for _ in starts]
        count = base + (1 if w < extra else 0)
        for r in range(count):
            email, first, last = person(next_person % people)
            next_person += 1
            roll = rng.random()
            status = ("approved" if roll < 0.90 else "pending" if roll < 0.95
                      else "denied" if roll < 0.98 else "cancelled")
            rid = f"r{wid % 100000:05d}_{r:06d}"
            regs.append({"id": rid, "email": email, "first_name": first, "last_name": last,
                         "status": status,
                         "create_time": _iso(w_start - timedelta(days=10, seconds=-r))})
            for k, o_start in enumerate(starts):
                o_end = o_start + timedelta(minutes=60)
                if status == "approved" and rng.random() < attendance_rate:
                    pid = f"p{wid % 100000:05d}_{r:06d}" + (f"o{k}" if recurring else "")
                    participants = held[k]
                    join = o_start + timedelta(seconds=rng.randint(0, 900))
                    leave = join + timedelta(seconds=rng.randint(300, 3600))
                    leave = min(leave, o_end)
                    participants.append({"id": pid, "name": f"{first} {last}",
                                         "user_email": email, "registrant_id": rid,
                                         "join_time": _iso(join), "leave_time": _iso(leave)})
                    if rng.random() < rejoin_rate and leave < o_end:
                        rejoin = leave + timedelta(seconds=rng.randint(30, 300))
                        if rejoin < o_end:
                            participants.append({
                                "id": f"{pid}b", "name": f"{first} {last}",
                                "user_email": email, "registrant_id": rid,
                                "join_time": _iso(rejoin), "leave_time": _iso(o_end)})
        instances = []
        recordings = []
        for k, (o_start, participants) in enumerate(zip(starts, held, strict=True)):
            guests = int(round(len(participants) * guest_rate))
            for g in range(guests):
                participants.append({"id": f"g{wid % 100000:05d}_{g:06d}" + (f"o{k}" if recurring else ""),
                                     "name": f"Guest {g + 1}",
                                     "user_email": "", "join_time": _iso(o_start),
                                     "leave_time": _iso(o_start + timedelta(minutes=30))})
            uuid = f"bench{wid}occ{k}==" if recurring else f"bench{wid}instance=="
            instances.append({"uuid": uuid, "start_time": _iso(o_start),
                              "end_time": _iso(o_start + timedelta(minutes=60)), "participants": participants})
            if recording_rate and rng.random() < recording_rate:
                files = [{"file_type": "MP4"}]
                if rng.random() < transcript_rate:
                    files.append({"file_type": "TRANSCRIPT"})
                recordings.append({"instance_uuid": uuid, "files": files})
        webinar: dict[str, Any] = {
            "id": wid, "host_id": users[w % len(users)]["id"], "topic": f"Benchmark webinar {w + 1}",
            "type": 9 if recurring else 5, "start_time": _iso(w_start), "duration": 60, "approval_type": 0,
            "registrants": regs,
            "instances": instances,
        }
        if not recurring:
            # A single-session webinar's uuid is its one instance's, as in real Zoom.
            webinar["uuid"] = instances[0]["uuid"]
        if recurring:
            webinar["topic"] = f"Benchmark series {w + 1}"
            webinar["occurrences"] = [{"occurrence_id": str(int(o.timestamp() * 1000)), "start_time": _iso(o),
                                       "duration": 60} for o in starts]
        if recordings:
            webinar["recordings"] = recordings
        webinar_list.append(webinar)

    contacts = []
    existing = int(min(people, registrants) * existing_contact_rate)
    for i in range(existing):
        email, first, last = person(i)
        contacts.append({"id": str(10_001 + i), "email": email, "firstname": first, "lastname": last})
    return {
        "hubspot": {"portal_id": 62515,
                    "users": [{"id": "9001", "email": "marketer@acme.com"}],
                    "business_units": [{"id": "0", "name": "Acme", "primary": True}],
                    "contacts": contacts},
        "zoom": {"accounts": [{"account_id": "zacc_main", "business_unit_id": "0",
                               "users": users, "webinars": webinar_list}]},
    }


def scenario_generate_portals(*, portals: int, seed: int = 1, **options: Any) -> dict[str, Any]:
    """`portals` HubSpot portals in one scenario (ids 62515, 62516, ...), each with its own Zoom
    account (`zacc_<portal id>`) and its own generated webinars (seed + i), for load tests of
    many portals against one sandbox process."""
    if portals < 1:
        raise ValueError("portals must be at least 1")
    out = []
    for i in range(portals):
        one = scenario_generate(seed=seed + i, **options)
        portal_id = 62515 + i
        one["hubspot"]["portal_id"] = portal_id
        for account in one["zoom"]["accounts"]:
            account["account_id"] = f"zacc_{portal_id}"
        out.append(one)
    return out[0] if portals == 1 else {"portals": out}
