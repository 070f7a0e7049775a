"""Objects and fields the sandbox org knows: types, lengths, picklists, lookups, writability."""
from __future__ import annotations

from dataclasses import dataclass, field

EXT_ID_FIELD = "Intermission_Key__c"
TASK_STATUS = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_PRIORITY = ("High", "Normal", "Low")
MISSION_OBJECTS = ("Mission__c", "pse__Assignment__c")
OPPORTUNITY_STAGES = ("Prospecting", "Qualification", "Proposal/Price Quote", "Closed Won", "Closed Lost")
TRIGGER_OBJECTS = (*MISSION_OBJECTS, "Opportunity")  # objects an Outbound Message or a Flow callout may watch
WRITABLE_OBJECTS = ("Task", "SurveyInvitation")
SURVEY_OBJECTS = ("Survey", "SurveyInvitation")

# Key prefix (first 3 id characters) of each object.
PREFIXES = {"005": "User", "003": "Contact", "001": "Account", "006": "Opportunity", "a0X": "Mission__c",
            "a1A": "pse__Assignment__c", "a1P": "pse__Proj__c", "a1S": "pse__Schedule__c", "00T": "Task", "0Kd": "Survey",
            "0Ki": "SurveyInvitation", "00D": "Organization"}
KEY_PREFIX = {name: prefix for prefix, name in PREFIXES.items()}


@dataclass(frozen=True)
class Field:
    """One field: type is id|string|textarea|date|datetime|boolean|reference|picklist|url|double."""

    name: str
    type: str
    length: int | None = None
    refs: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    writable: bool = True
    external_id: bool = False
    unique: bool = False
    extra: dict = field(default_factory=dict, compare=False)


def _text(name: str, length: int = 255, **kw) -> Field:
    """A text field."""
    return Field(name, "string", length=length, **kw)


def _ref(name: str, *refs: str, **kw) -> Field:
    """A lookup to one of these objects."""
    return Field(name, "reference", refs=refs, **kw)


def _pick(name: str, *values: str, **kw) -> Field:
    """A restricted picklist."""
    return Field(name, "picklist", values=values, **kw)


def _date(name: str) -> Field:
    """A date field."""
    return Field(name, "date")


def _system() -> list[Field]:
    """Id, IsDeleted, CreatedDate, LastModifiedDate (read-only)."""
    return [Field("Id", "id", writable=False), Field("IsDeleted", "boolean", writable=False),
            Field("CreatedDate", "datetime", writable=False),
            Field("LastModifiedDate", "datetime", writable=False)]


def _object(*items: Field) -> dict[str, Field]:
    """An object's fields by name, system fields first."""
    return {f.name: f for f in [*_system(), *items]}


BASE_OBJECTS: dict[str, dict[str, Field]] = {
    "User": _object(_text("Name", writable=False), _text("FirstName", 40), _text("LastName", 80),
                    _text("Email", 128), _text("Username", 80), _text("Title", 80),
                    Field("IsActive", "boolean"), _text("TimeZoneSidKey", 40)),
    "Account": _object(_text("Name"), _ref("OwnerId", "User")),
    "Organization": _object(_text("Name", writable=False), _text("TimeZoneSidKey", 40, writable=False),
                            _text("DefaultLocaleSidKey", 40, writable=False), _text("Country", 80, writable=False)),
    "Contact": _object(_text("Name", writable=False), _text("FirstName", 40), _text("LastName", 80),
                       _text("Email", 80), _text("Title", 128), _ref("AccountId", "Account"),
                       _ref("OwnerId", "User"), _ref("pse__Salesforce_User__c", "User"),
                       # an ESN's custom consultant fields: own manager, left the firm, HR contract end
                       _ref("Manager__c", "User"), Field("Left__c", "boolean"), _date("Contract_End__c"),
                       # issue #29: a consultant's skills and the places they accept (mapped per tenant)
                       Field("Skills__c", "textarea", length=32000), _text("Locations__c")),
    # issue #29: the standard Opportunity with an ESN's custom fields (the skills asked, the start, the place)
    "Opportunity": _object(
        _text("Name", 120), _pick("StageName", *OPPORTUNITY_STAGES), Field("IsClosed", "boolean", writable=False),
        Field("IsWon", "boolean", writable=False), _date("CloseDate"), _ref("OwnerId", "User"),
        _ref("AccountId", "Account"), Field("Required_Skills__c", "textarea", length=32000),
        _date("Start_Date__c"), _text("Location__c")),
    "Mission__c": _object(
        _text("Name", 80), _date("Start_Date__c"), _date("End_Date__c"),
        _ref("Consultant__c", "Contact"), _ref("Consultant_User__c", "User"), _ref("Manager__c", "User"),
        _ref("Business_Engineer__c", "User"), _ref("HR_Manager__c", "User"), _ref("Account__c", "Account"),
        _ref("Client_Contact__c", "Contact"), _pick("Status__c", "Active", "Ended", "Cancelled"),
        _pick("End_Reason__c", "Client", "Consultant"), _ref("OwnerId", "User"), Field("Occupation__c", "double")),
    "pse__Proj__c": _object(_text("Name", 80), _ref("OwnerId", "User"), _ref("pse__Account__c", "Account")),
    "pse__Assignment__c": _object(
        _text("Name", 80), _date("pse__Start_Date__c"), _date("pse__End_Date__c"),
        _ref("pse__Resource__c", "Contact"), _ref("pse__Project__c", "pse__Proj__c"),
        _pick("pse__Status__c", "Scheduled", "Tentative", "Closed", "Cancelled"),
        _pick("pse__Closed_Reason__c", "Client", "Consultant"), _ref("OwnerId", "User"),
        _ref("pse__Schedule__c", "pse__Schedule__c")),
    # Certinia: an assignment's dates and weekly hours; creating an assignment creates its schedule [C]
    "pse__Schedule__c": _object(_text("Name", 80), _date("pse__Start_Date__c"), _date("pse__End_Date__c")),
    "Task": _object(
        _text("Subject"), _date("ActivityDate"), _pick("Status", *TASK_STATUS), _pick("Priority", *TASK_PRIORITY),
        _ref("OwnerId", "User"), _ref("WhoId", "Contact"),
        _ref("WhatId", "Mission__c", "pse__Assignment__c", "pse__Proj__c", "Account", "Opportunity"),
        Field("Description", "textarea", length=32000), Field("IsReminderSet", "boolean"),
        Field("IsClosed", "boolean", writable=False),
        Field("ReminderDateTime", "datetime"),
        _text(EXT_ID_FIELD, 255, external_id=True, unique=True)),
    "Survey": _object(_text("Name", 80, writable=False), _text("DeveloperName", 80, writable=False)),
    "SurveyInvitation": _object(
        _text("Name", 80), _ref("SurveyId", "Survey"), _ref("ParticipantId", "Contact", "User"),
        _ref("CommunityId", "Network"), Field("OptionsAllowGuestUserResponse", "boolean"),
        Field("OptionsAllowParticipantAccessTheirResponse", "boolean"),
        Field("OptionsCollectAnonymousResponse", "boolean"), Field("InviteExpiryDateTime", "datetime"),
        Field("InvitationLink", "url", writable=False), _pick("ResponseStatus", "NotStarted", "Started",
                                                              "Paused", "PartiallyCompleted", "Completed",
                                                              writable=False),
        _ref("ContactId", "Contact", writable=False), _ref("UserId", "User", writable=False),
        _ref("OwnerId", "User")),
}


def objects(config) -> dict[str, dict[str, Field]]:
    """The org's objects under this config (no Survey objects / no ext-id field when switched off)."""
    chosen = {name: fields for name, fields in BASE_OBJECTS.items()
              if config.has_surveys or name not in SURVEY_OBJECTS}
    if not config.has_external_id_field:
        chosen["Task"] = {k: v for k, v in chosen["Task"].items() if k != EXT_ID_FIELD}
    return chosen


def object_named(config, name: str) -> str | None:
    """Canonical object name for a case-insensitive name, or None."""
    wanted = name.lower()
    return next((n for n in objects(config) if n.lower() == wanted), None)


def field_named(config, sobject: str, name: str) -> Field | None:
    """The field of an object for a case-insensitive name, or None."""
    wanted = name.lower()
    return next((f for n, f in objects(config)[sobject].items() if n.lower() == wanted), None)


def relationship(config, sobject: str, name: str) -> Field | None:
    """The lookup field behind a relationship name (Owner → OwnerId, pse__Project__r → pse__Project__c)."""
    lowered = name.lower()
    target = lowered[:-3] + "__c" if lowered.endswith("__r") else lowered + "id"
    found = field_named(config, sobject, target)
    return found if found is not None and found.type == "reference" else None


def relationship_name(ref: Field) -> str:
    """The relationship name of a lookup field (pse__Project__c → pse__Project__r, OwnerId → Owner)."""
    return ref.name[:-3] + "__r" if ref.name.endswith("__c") else ref.name[:-2]


def object_of_id(record_id: str) -> str | None:
    """The object an id belongs to, from its key prefix."""
    return PREFIXES.get(record_id[:3]) if isinstance(record_id, str) else None


def record_url(sobject: str, record_id: str) -> str:
    """The REST url of a record, as in `attributes.url`."""
    from .state import api_prefix

    return f"{api_prefix()}/sobjects/{sobject}/{record_id}"
