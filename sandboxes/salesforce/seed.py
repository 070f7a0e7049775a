"""The seeded org: users, the client account and contacts, a PSA project, the end-of-mission survey."""
from __future__ import annotations

SEED_TIME = "2026-01-02T08:00:00.000Z"
ACCOUNT = "001000000000010AAA"
JEAN_CONTACT, SOPHIE_CONTACT = "003000000000007AAA", "003000000000011AAA"
ADMIN, CLAIRE, HUGO, INES, JEAN_USER = ("005000000000001AAA", "005000000000002AAA", "005000000000003AAA",
                                        "005000000000004AAA", "005000000000007AAA")
PROJECT = "a1P000000000001AAA"
SURVEY = "0Kd000000000001AAA"
ORG = "00D000000000001EAA"  # state.ORG_ID (the Organization record read at set-up)


def _system(record_id: str, **values) -> dict:
    """A stored record: Id, system fields, then values."""
    return {"Id": record_id, "IsDeleted": False, "CreatedDate": SEED_TIME, "LastModifiedDate": SEED_TIME,
            **values}


def _user(record_id: str, first: str, last: str, title: str) -> dict:
    """A seeded user."""
    email = f"{first.lower().replace('è', 'e')}.{last.lower()}@esn-sandbox.example"
    return _system(record_id, Name=f"{first} {last}", FirstName=first, LastName=last, Email=email,
                   Username=email, Title=title, IsActive=True, TimeZoneSidKey="Europe/Paris")


def _contact(record_id: str, first: str, last: str, email: str, **values) -> dict:
    """A seeded contact."""
    base = {"Title": None, "AccountId": None, "OwnerId": ADMIN, "pse__Salesforce_User__c": None, "Manager__c": None,
            "Left__c": False, "Contract_End__c": None, "Skills__c": None, "Locations__c": None}
    return _system(record_id, Name=f"{first} {last}", FirstName=first, LastName=last, Email=email,
                   **{**base, **values})


def seed_db() -> dict[str, dict[str, dict]]:
    """Fresh tables of the seeded org, keyed by object then 18-char id."""
    users = [_user(ADMIN, "Integration", "User", "Integration user (admin)"),
             _user(CLAIRE, "Claire", "Martin", "Manager"),
             _user(HUGO, "Hugo", "Bernard", "Business engineer"),
             _user(INES, "Inès", "Moreau", "HR"),
             _user(JEAN_USER, "Jean", "Dupont", "Consultant")]
    contacts = [_contact(JEAN_CONTACT, "Jean", "Dupont", "jean.dupont@esn-sandbox.example",
                         Title="Consultant", pse__Salesforce_User__c=JEAN_USER),
                _contact(SOPHIE_CONTACT, "Sophie", "Leroy", "sophie.leroy@acme-industrie.example",
                         Title="Head of data", AccountId=ACCOUNT)]
    return {
        "User": {u["Id"]: u for u in users},
        "Organization": {ORG: _system(ORG, Name="ESN Sandbox", TimeZoneSidKey="Europe/Paris",
                                      DefaultLocaleSidKey="fr_FR", Country="France")},
        "Account": {ACCOUNT: _system(ACCOUNT, Name="Acme Industrie", OwnerId=HUGO)},
        "Contact": {c["Id"]: c for c in contacts},
        "pse__Proj__c": {PROJECT: _system(PROJECT, Name="Acme Industrie - data platform", OwnerId=CLAIRE,
                                          pse__Account__c=ACCOUNT)},
        "Mission__c": {},
        "Opportunity": {},
        "pse__Assignment__c": {},
        "pse__Schedule__c": {},
        "Task": {},
        "Survey": {SURVEY: _system(SURVEY, Name="end_of_mission", DeveloperName="end_of_mission")},
        "SurveyInvitation": {},
    }


def mission_defaults(sobject: str, number: int) -> dict:
    """Field values of a new Mission__c / pse__Assignment__c before the control body applies."""
    if sobject == "pse__Assignment__c":
        return {"Name": f"AS-{number:05d}", "pse__Start_Date__c": None, "pse__End_Date__c": None,
                "pse__Resource__c": JEAN_CONTACT, "pse__Project__c": PROJECT, "pse__Status__c": "Scheduled",
                "pse__Closed_Reason__c": None, "OwnerId": CLAIRE}
    return {"Name": f"M-{number:05d}", "Start_Date__c": None, "End_Date__c": None,
            "Consultant__c": JEAN_CONTACT, "Consultant_User__c": JEAN_USER, "Manager__c": CLAIRE,
            "Business_Engineer__c": HUGO, "HR_Manager__c": INES, "Account__c": ACCOUNT,
            "Client_Contact__c": SOPHIE_CONTACT, "Status__c": "Active", "End_Reason__c": None,
            "OwnerId": CLAIRE, "Occupation__c": None}
