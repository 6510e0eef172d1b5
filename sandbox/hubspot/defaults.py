"""What a fresh HubSpot portal already has: default scopes, property groups and properties."""

from __future__ import annotations

from typing import Any

# The scopes zoomsync asks for (research/hubspot-api.md §1.4).
DEFAULT_SCOPES = [
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "timeline",
    "automation",
    "settings.users.read",
    "business_units_view.read",
    "crm.objects.marketing_events.read",
    "crm.objects.marketing_events.write",
]

DEFAULT_GROUPS: dict[str, list[dict[str, Any]]] = {
    "contacts": [
        {"name": "contactinformation", "label": "Contact information", "displayOrder": 0,
         "hubspotDefined": True},
        {"name": "emailinformation", "label": "Email information", "displayOrder": 1,
         "hubspotDefined": True},
    ],
    "companies": [
        {"name": "companyinformation", "label": "Company information", "displayOrder": 0,
         "hubspotDefined": True},
    ],
}


def _p(name: str, label: str, type_: str = "string", field_type: str = "text",
       group: str = "contactinformation", read_only: bool = False) -> dict[str, Any]:
    return {"name": name, "label": label, "type": type_, "fieldType": field_type,
            "groupName": group, "hubspotDefined": True, "readOnlyValue": read_only,
            "description": "", "options": []}


DEFAULT_CONTACT_PROPERTIES: list[dict[str, Any]] = [
    _p("email", "Email"),
    _p("firstname", "First Name"),
    _p("lastname", "Last Name"),
    _p("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox",
       read_only=True),
    _p("hs_object_id", "Record ID", "number", "number", read_only=True),
    _p("createdate", "Create Date", "datetime", "date", read_only=True),
    _p("lastmodifieddate", "Last Modified Date", "datetime", "date", read_only=True),
    _p("phone", "Phone Number", "string", "phonenumber"),
    _p("company", "Company Name"),
    _p("jobtitle", "Job Title"),
    _p("website", "Website URL"),
    _p("city", "City"),
    _p("country", "Country/Region"),
    _p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio"),
    _p("hs_lead_status", "Lead Status", "enumeration", "radio"),
    _p("hubspot_owner_id", "Contact owner", "enumeration", "select"),
    _p("hs_all_assigned_business_unit_ids", "Brands", "enumeration", "checkbox"),
    _p("hs_email_domain", "Email Domain", read_only=True),
]

# Properties HubSpot returns on every object read even when not asked for.
ALWAYS_RETURNED = ("hs_object_id", "createdate", "lastmodifieddate")
# Returned when the request names no properties at all.
DEFAULT_RETURNED = ("email", "firstname", "lastname", *ALWAYS_RETURNED)
