"""Input and output of the workflow action endpoint (research/hubspot-api.md §6.2–§6.3).

Leaf values the action inspects (`webinarId`, the contact's properties) are taken as any
JSON and judged by the service, so a wrong type becomes a FAIL_CONTINUE with an errorCode
that HubSpot shows, not a bare 400.
"""

from __future__ import annotations

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers

_INT64_MAX = 2**63 - 1


class OriginInputSerializer(serializers.Serializer):
    portalId = serializers.IntegerField(min_value=1, max_value=_INT64_MAX)  # noqa: N815 - HubSpot's name
    actionDefinitionId = serializers.JSONField(required=False)  # noqa: N815
    actionDefinitionVersion = serializers.JSONField(required=False)  # noqa: N815


class ContactPropertiesInputSerializer(serializers.Serializer):
    email = serializers.JSONField(required=False, allow_null=True)
    firstname = serializers.JSONField(required=False, allow_null=True)
    lastname = serializers.JSONField(required=False, allow_null=True)


class ObjectInputSerializer(serializers.Serializer):
    objectId = serializers.JSONField(required=False, allow_null=True)  # noqa: N815
    objectType = serializers.JSONField(required=False, allow_null=True)  # noqa: N815
    properties = ContactPropertiesInputSerializer(required=False)


class InputFieldsInputSerializer(serializers.Serializer):
    webinarId = serializers.JSONField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="The Zoom webinar ID (digits; spaces and dashes are ignored), static or from a contact property (R24)",
    )


class ActionRequestInputSerializer(serializers.Serializer):
    """The body HubSpot POSTs to the action URL."""

    callbackId = serializers.CharField(  # noqa: N815
        max_length=200, validators=[ProhibitNullCharactersValidator()]
    )
    origin = OriginInputSerializer()
    # Declared fields are popped off the class by DRF, so this does not shadow Serializer.context.
    context = serializers.JSONField(required=False)  # type: ignore[assignment]
    object = ObjectInputSerializer(required=False)
    inputFields = InputFieldsInputSerializer(required=False)  # noqa: N815


class OutputFieldsSerializer(serializers.Serializer):
    hs_execution_state = serializers.ChoiceField(choices=["SUCCESS", "FAIL_CONTINUE"])
    errorCode = serializers.CharField(required=False)  # noqa: N815
    errorMessage = serializers.CharField(required=False)  # noqa: N815
    registrantId = serializers.CharField(required=False)  # noqa: N815
    joinUrl = serializers.CharField(required=False)  # noqa: N815


class ActionResponseOutputSerializer(serializers.Serializer):
    outputFields = OutputFieldsSerializer()  # noqa: N815


class ErrorOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()
