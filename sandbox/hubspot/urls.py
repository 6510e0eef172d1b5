"""Routes of the fake HubSpot API, mounted at /hubspot/ by the sandbox core.

Paths follow /work/shared/specs/hubspot/*.json; path parameters use the spec's names, so the
route template maps 1:1 onto the spec path (`<str:contactId>` ↔ `{contactId}`). Specific
routes come before parameterised ones that would shadow them.
"""

from django.urls import path

from sandbox.hubspot import views as v
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
]

__all__ = ["urlpatterns", "HAPIKEY"]
