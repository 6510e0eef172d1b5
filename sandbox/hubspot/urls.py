"""Routes of the fake HubSpot API, mounted at /hubspot/ by the sandbox core.

Paths follow /work/shared/specs/hubspot/*.json; path parameters use the spec's names, so the
route template maps 1:1 onto the spec path (`<str:contactId>` ↔ `{contactId}`). Specific
routes come before parameterised ones that would shadow them.
"""

from django.urls import path

from sandbox.hubspot import views as v
from sandbox.hubspot import webhooks_v3 as wh
from sandbox.hubspot.auth import HAPIKEY, NONE, OAUTH
from sandbox.hubspot.views import endpoint

app_name = "hubspot"

urlpatterns = [
    # OAuth v1
    path("oauth/v1/token", endpoint(NONE, POST=v.oauth_token)),
    path("oauth/v1/access-tokens/<str:token>", endpoint(NONE, GET=v.oauth_access_token)),
    path("oauth/v1/refresh-tokens/<str:token>",
         endpoint(NONE, GET=v.oauth_refresh_token_get, DELETE=v.oauth_refresh_token_delete)),
    # Account, users, business units
    path("account-info/v3/details", endpoint(OAUTH, GET=v.account_details)),
    path("settings/v3/users/", endpoint(OAUTH, GET=v.users_list)),
    path("settings/v3/users", endpoint(OAUTH, GET=v.users_list)),
    path("settings/users/v3", endpoint(OAUTH, GET=v.users_list)),  # the spec's spelling
    path("settings/v3/users/<str:userId>", endpoint(OAUTH, GET=v.user_get)),
    path("business-units/v3/business-units/user/<str:userId>",
         endpoint(OAUTH, GET=v.business_units)),
    # Webhooks v3 management (developer key)
    path("webhooks/v3/<str:appId>/settings",
         endpoint(HAPIKEY, GET=wh.settings_get, PUT=wh.settings_put, DELETE=wh.settings_delete)),
    path("webhooks/v3/<str:appId>/subscriptions",
         endpoint(HAPIKEY, GET=wh.subscriptions_get, POST=wh.subscriptions_post)),
    path("webhooks/v3/<str:appId>/subscriptions/<str:subscriptionId>",
         endpoint(HAPIKEY, GET=wh.subscription_get, PATCH=wh.subscription_patch, DELETE=wh.subscription_delete)),
    # Contacts
    path("crm/v3/objects/contacts", endpoint(OAUTH, GET=v.contacts_list, POST=v.contact_create)),
    path("crm/v3/objects/contacts/batch/read", endpoint(OAUTH, POST=v.contacts_batch_read)),
    path("crm/v3/objects/contacts/batch/create", endpoint(OAUTH, POST=v.contacts_batch_create)),
    path("crm/v3/objects/contacts/batch/update", endpoint(OAUTH, POST=v.contacts_batch_update)),
    path("crm/v3/objects/contacts/batch/upsert", endpoint(OAUTH, POST=v.contacts_batch_upsert)),
    path("crm/v3/objects/contacts/batch/archive",
         endpoint(OAUTH, POST=v.contacts_batch_archive)),
    path("crm/v3/objects/contacts/search", endpoint(OAUTH, POST=v.contacts_search)),
    path("crm/v3/objects/contacts/<str:contactId>",
         endpoint(OAUTH, GET=v.contact_get, PATCH=v.contact_patch, DELETE=v.contact_delete)),
    # Properties
    path("crm/v3/properties/<str:objectType>/groups",
         endpoint(OAUTH, GET=v.groups_get, POST=v.groups_post)),
    path("crm/v3/properties/<str:objectType>/groups/<str:groupName>",
         endpoint(OAUTH, GET=v.group_get)),
    path("crm/v3/properties/<str:objectType>/batch/create",
         endpoint(OAUTH, POST=v.properties_batch_create)),
    path("crm/v3/properties/<str:objectType>",
         endpoint(OAUTH, GET=v.properties_get, POST=v.properties_post)),
    path("crm/v3/properties/<str:objectType>/<str:propertyName>",
         endpoint(OAUTH, GET=v.property_get)),
    # Timeline v3: templates with the developer key, events with OAuth
    path("integrators/timeline/v3/events", endpoint(OAUTH, POST=v.timeline_event_post)),
    path("integrators/timeline/v3/events/batch/create",
         endpoint(OAUTH, POST=v.timeline_events_batch)),
    path("integrators/timeline/v3/events/<str:eventTemplateId>/<str:eventId>",
         endpoint(OAUTH, GET=v.timeline_event_get)),
    path("integrators/timeline/v3/<str:appId>/event-templates",
         endpoint(HAPIKEY, GET=v.templates_get, POST=v.templates_post)),
    path("integrators/timeline/v3/<str:appId>/event-templates/<str:eventTemplateId>",
         endpoint(HAPIKEY, GET=v.template_get, PUT=v.template_put, DELETE=v.template_delete)),
    path("integrators/timeline/v3/<str:appId>/event-templates/<str:eventTemplateId>/tokens",
         endpoint(HAPIKEY, POST=v.template_tokens_post)),
    # App events 2026-03
    path("integrators/timeline/2026-03/events", endpoint(OAUTH, POST=v.app_event_post)),
    path("integrators/timeline/2026-03/events/batch", endpoint(OAUTH, POST=v.app_events_batch)),
    # Marketing events v3
    path("marketing/v3/marketing-events/events", endpoint(OAUTH, POST=v.marketing_event_post)),
    path("marketing/v3/marketing-events/events/upsert",
         endpoint(OAUTH, POST=v.marketing_events_upsert)),
    path("marketing/v3/marketing-events/events/<str:externalEventId>",
         endpoint(OAUTH, GET=v.marketing_event_get, PUT=v.marketing_event_put,
                  DELETE=v.marketing_event_delete)),
    path("marketing/v3/marketing-events/attendance/<str:externalEventId>/<str:subscriberState>"
         "/email-create", endpoint(OAUTH, POST=v.attendance_email_create)),
    path("marketing/v3/marketing-events/attendance/<str:externalEventId>/<str:subscriberState>"
         "/create", endpoint(OAUTH, POST=v.attendance_create)),
    path("marketing/v3/marketing-events/participations/contacts/<str:contactIdentifier>"
         "/breakdown", endpoint(OAUTH, GET=v.participations_for_contact)),
    path("marketing/v3/marketing-events/participations/<str:marketingEventId>/breakdown",
         endpoint(OAUTH, GET=v.participations_breakdown_by_object)),
    path("marketing/v3/marketing-events/participations/<str:externalAccountId>"
         "/<str:externalEventId>/breakdown", endpoint(OAUTH, GET=v.participations_breakdown)),
    path("marketing/v3/marketing-events/participations/<str:externalAccountId>"
         "/<str:externalEventId>", endpoint(OAUTH, GET=v.participations_counters)),
    path("marketing/v3/marketing-events/participations/<str:marketingEventId>",
         endpoint(OAUTH, GET=v.participations_counters_by_object)),
    # Automation v4: callbacks with OAuth, action definitions with the developer key
    path("automation/v4/actions/callbacks/complete", endpoint(OAUTH, POST=v.callbacks_complete)),
    path("automation/v4/actions/callbacks/<str:callbackId>/complete",
         endpoint(OAUTH, POST=v.callback_complete)),
    path("automation/v4/actions/<str:appId>",
         endpoint(HAPIKEY, GET=v.definitions_get, POST=v.definitions_post)),
    path("automation/v4/actions/<str:appId>/<str:definitionId>",
         endpoint(HAPIKEY, GET=v.definition_get, PATCH=v.definition_patch,
                  DELETE=v.definition_delete)),
]
