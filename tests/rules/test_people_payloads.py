"""People in JSON fields (issue #14): a labelled set of realistic payloads.

Each payload marks the person names it holds (``P``) and other personal data the
detectors or classes must change (``X``); every other value, strings under keys much
like the people's keys included, must come out unchanged. Every payload runs through
the default policy three ways: the splice path (compact and indented bytes), an
encoder that escapes every non-ASCII character (the splice path's escaped strings),
and the walk (``Plan.redact_json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from veil import default_plan
from veil.rules.json_splice import splice_json


class P(str):
    """A person's name: must come out redacted."""


class X(str):
    """Other personal data (an address, a phone number): must come out changed."""


UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"

PAYLOADS: dict[str, Any] = {
    "helpdesk ticket": {
        "ticket": {
            "id": 35436, "subject": "Printer on floor 3 is jammed", "status": "open", "priority": "high",
            "type": "incident", "group": "Tier 2 Support", "organization": "Acme Corp", "brand": "Acme",
            "requester": {"id": 20978392, "name": P("Jane Doe"), "email": X("jane.doe@example.com"), "role": "end-user"},
            "assignee": P("Raj Patel"), "assignee_id": 235323, "submitter": {"name": P("Siobhán O'Connor")},
            "collaborators": [P("Ann Lee"), P("Bo Li")], "via": {"channel": "email", "source": {"from": {}, "rel": None}},
            "tags": ["printer", "hardware"], "created_by": "system", "updated_by": "automation",
            "custom_fields": [{"id": 27642, "value": "745"}, {"id": 27648, "value": "yes"}],
        },
        "audit": {"author_id": -1, "author": "Zendesk", "events": [{"type": "Notification", "subject": "Ticket updated"}]},
    },
    "CRM contact": {
        "id": "003Dn00000AbCdE",
        "properties": {
            "firstname": P("María José"), "lastname": P("García López"), "company": "Globex",
            "jobtitle": "VP Engineering", "lifecyclestage": "lead", "hs_lead_status": "NEW", "industry": "Software",
            "phone": X("+1 415 555 0132"), "city": "Austin", "country": "United States",
        },
        "owner": {"id": "8812", "name": P("Priya Natarajan"), "type": "PERSON"},
        "contact_owner": P("Tom Baker"), "primaryContact": P("Lucas Silva"),
        "associations": {"companies": [{"id": "9921", "type": "contact_to_company"}]},
        "createdBy": "HubSpot Integration", "source": "Website Form", "archived": False,
    },
    "HR record": {
        "employee": {
            "employee_id": "E-10293", "first_name": P("Kwame"), "last_name": P("Mensah"),
            "preferred_name": P("Kwame Mensah"), "department": "Engineering", "title": "Staff Engineer",
            "employment_type": "Full-time", "location": "Berlin", "start_date": "2021-04-12",
            "manager": P("Ingrid Johansson"), "manager_id": "E-10001", "cost_center": "CC-4410",
        },
        "emergency_contact": {"name": P("Ama Mensah"), "relationship": "Spouse", "phone": X("+49 30 901820")},
        "next_of_kin": P("Ama Mensah"),
        "approver": P("Hiroshi Tanaka"), "approved_by": P("Hiroshi Tanaka"), "workflow": "Onboarding",
        "reviewer": "Unassigned", "owner": "people-ops",
    },
    "git pull request": {
        "number": 1347, "state": "open", "title": "Fix flaky upload test", "draft": False,
        "user": {"login": "octocat", "id": 1, "type": "User", "site_admin": False},
        "head": {"ref": "fix/upload", "label": "octocat:fix/upload", "repo": {"name": "hello-world"}},
        "repository": {"name": "hello-world", "full_name": "octo-org/hello-world", "private": False,
                       "owner": {"login": "octo-org", "type": "Organization"}},
        "author_association": "CONTRIBUTOR",
        "requested_reviewers": [{"login": "hubot"}], "reviewers": [P("Grace Hopper"), P("Alan Turing")],
        "assignees": [], "assignee": None, "labels": [{"name": "bug", "color": "f29513"}],
        "commits": [
            {"sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "message": "Fix all the bugs",
             "author": {"name": P("Linus Torvalds"), "email": X("linus@example.org"), "date": "2011-04-14T16:00:49Z"},
             "committer": {"name": "GitHub", "email": X("noreply@github.com"), "date": "2011-04-14T16:00:49Z"}},
            {"sha": "7638417db6d59f3c431d3e1f261cc637155684cd", "message": "Bump deps",
             "author": {"name": "dependabot[bot]", "email": X("49699333+dependabot[bot]@users.noreply.github.com")}},
        ],
        "merged_by": None, "closed_by": P("Margaret Hamilton"),
    },
    "calendar invite": {
        "kind": "calendar#event", "status": "confirmed", "summary": "Quarterly planning", "location": "Room 4B",
        "organizer": {"email": X("jane.doe@example.com"), "displayName": P("Jane Doe"), "self": True},
        "creator": {"email": X("raj.patel@example.com")},
        "attendees": [
            {"email": X("ann.lee@example.com"), "displayName": P("Ann Lee"), "responseStatus": "accepted"},
            {"email": X("bo.li@example.com"), "name": P("Bo Li"), "optional": True, "responseStatus": "needsAction"},
            {"email": X("room-4b@resource.calendar.google.com"), "resource": True, "responseStatus": "accepted"},
        ],
        "participants": [P("Ngozi Okonjo-Iweala"), P("Jean-Luc Picard")],
        "reminders": {"useDefault": True}, "eventType": "default", "visibility": "private",
        "conferenceData": {"conferenceSolution": {"name": "Google Meet", "key": {"type": "hangoutsMeet"}}},
    },
    "chat messages": {
        "channel": "C024BE91L", "channel_name": "eng-oncall",
        "messages": [
            {"type": "message", "user": "U024BE7LH", "text": "deploy is done", "ts": "1712345678.000200",
             "user_profile": {"real_name": P("Amelia Earhart"), "display_name": P("amelia"), "team": "T0001"}},
            {"type": "message", "bot_id": "B01", "username": "deploy-bot", "text": "build 7.12.31 passed",
             "sender": "deploy-bot", "agent": UA},
            {"type": "message", "sender": {"type": "admin", "name": P("Ada Lovelace")}, "recipient": P("Charles Babbage")},
        ],
        "message": {"from": P("Jane Doe <jane@example.com>"), "to": [P("Raj Patel"), X("ann.lee@example.com")],
                    "cc": P("Bo Li"), "subject": "Re: incident review", "date": "Tue, 09 Apr 2024 10:00:00 +0000"},
    },
    "e-commerce order": {
        "id": 450789469, "order_number": "#1001", "currency": "EUR", "financial_status": "paid",
        "customer": {"id": 207119551, "first_name": P("Zoë"), "last_name": P("Saldaña"), "email": X("zoe@example.com"),
                     "state": "enabled", "tags": "vip"},
        # An address is covered whole (ADDRESS): its city and country too.
        "shipping_address": {"name": P("Zoë Saldaña"), "address1": X("12 Rue de Rivoli"), "city": X("Paris"),
                             "country": X("France"), "zip": X("75004")},
        "line_items": [{"title": "Wool Socks", "vendor": "Acme Apparel", "name": "Wool Socks - M", "sku": "WS-M-01",
                        "quantity": 2, "price": "12.00"}],
        "gift_recipient": P("Léa Dubois"), "buyer": P("Zoë Saldaña"),
        "fulfillments": [{"tracking_company": "UPS", "tracking_number": "1Z999AA10123456784", "status": "success"}],
        "source_name": "web", "user_agent": UA, "agent": "Shopify Mobile for iPhone", "from": "2024-04-01", "to": "USD",
    },
    "healthcare appointment": {
        "resourceType": "Appointment", "id": "example", "status": "booked",
        "serviceType": [{"text": "General Practice"}], "description": "Discussion on the results of your recent MRI",
        "participant": [
            {"actor": {"reference": "Patient/example", "display": P("Peter James Chalmers")}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/example", "display": P("Dr Adam Careful")}, "status": "accepted"},
            {"actor": {"reference": "Location/1", "display": "South Wing, second floor"}, "status": "accepted"},
        ],
        "patient": {"name": P("Jane Doe"), "dob": X("1984-03-02"), "mrn": "MRN-00231"},
        "physician": P("Raj Patel"), "nurse": P("Mary Seacole"), "clinic": "Riverside Clinic",
        "department": "Cardiology", "appointment_type": "Follow-up", "guardian": {"first_name": P("Tom"), "last_name": P("Doe")},
        "name": {"given": [P("Peter"), P("James")], "family": P("Chalmers")},
    },
    "e-signature envelope": {
        "envelopeId": "93be49ab-afa0-4adf-933c-f752070d71ec", "status": "sent", "emailSubject": "Please sign: Lease",
        "sender": {"userName": P("Jane Doe"), "email": X("jane.doe@example.com"), "accountId": "a1b2c3"},
        "recipients": {
            "signers": [{"name": P("Kofi Annan"), "email": X("kofi@example.com"), "routingOrder": "1", "status": "sent"},
                        {"name": P("Ingrid Bergman"), "email": X("ingrid@example.com"), "routingOrder": "2", "status": "created"}],
            "carbonCopies": [{"name": P("Greta Garbo"), "email": X("greta@example.com"), "routingOrder": "3"}],
        },
        "landlord": P("Harold Finch"), "tenant": P("John Reese"), "witness": P("Samantha Groves"),
        "documents": [{"documentId": "1", "name": "Lease Agreement.pdf", "pages": "4"}],
    },
    "ride": {
        "trip_id": "b7c3d1e2", "status": "completed", "city": "Lisbon", "product": {"name": "UberX", "capacity": 4},
        "driver": {"first_name": P("João"), "rating": 4.92, "vehicle": {"make": "Toyota", "model": "Prius", "color": "Silver"}},
        "rider": {"name": P("Ana Sousa")}, "passengers": [P("Ana Sousa"), P("Rui Costa")],
        "fare": {"currency": "EUR", "total": "14.20", "breakdown": [{"name": "Base fare", "amount": "3.00"}]},
    },
    "insurance claim": {
        "claim_number": "CLM-2024-0042", "line_of_business": "Auto", "loss_type": "Collision", "state": "Open",
        "policyholder": P("Dmitri Volkov"), "claimant": {"full_name": P("Olga Volkova"), "relationship": "Spouse"},
        "adjuster": P("Fatima Zahra"), "insured": {"name": P("Dmitri Volkov"), "policy": "POL-77812"},
        "carrier": "Northwind Insurance", "assigned_to": P("Fatima Zahra"), "reported_by": "Web Portal",
    },
    "school record": {
        "student": {"given_name": P("Mei"), "family_name": P("Chen"), "grade": "5", "homeroom": "5B"},
        "teacher": P("Mr. Daniel Okafor"), "guardians": [{"name": P("Wei Chen"), "relationship": "Mother"}],
        "school": {"name": "Lincoln Elementary", "district": "Springfield"}, "subjects": ["Math", "Science"],
    },
    "LLM chat request": {
        "model": "gpt-4o", "temperature": 0.2, "user": "user-1234",
        "messages": [{"role": "system", "content": "You are a support agent."},
                     {"role": "user", "content": "Where is my order?", "name": "web_client"}],
        "metadata": {"customer_name": P("Isabella Rossi"), "agent": P("Raj Patel"),
                     "requester": {"first_name": P("Isabella"), "last_name": P("Rossi")}, "channel": "Web Chat"},
    },
    "support conversation": {
        "type": "conversation", "state": "open", "title": "Refund for order 1001",
        "source": {"author": {"type": "user", "name": P("Nia Long"), "email": X("nia@example.com")}, "delivered_as": "customer_initiated"},
        "conversation_parts": [
            {"part_type": "comment", "author": {"type": "admin", "name": P("Owen Grady")}},
            {"part_type": "assignment", "author": {"type": "bot", "name": "Operator"}},
        ],
        "teammates": [{"name": P("Claire Dearing")}], "admin_assignee_id": 814860, "team_assignee_id": "5017691",
    },
    "ops and tooling (nothing personal under role-like keys)": {
        "owner": "team-platform", "agent": UA, "author": "bot[bot]", "created_by": "system", "assignee": None,
        "maintainer": "usr_8f2k3", "owner_id": "U123", "agent_id": "agent-42", "driver": "overlay2",
        "package_manager": "Yarn", "user_agent": "curl/8.4.0", "reviewer": "Copilot", "creator": "API",
        "tenant": "acme-prod", "sender": "noreply", "member": True, "contact": None, "users": [],
        "participants": ["room-4b", X("all-hands@example.com")], "from": "2024-01-01", "to": "2024-01-31",
        "name": {"en": "Widget", "fr": "Gadget"}, "range": {"first": 1, "last": 10},
        "product": {"name": "Widget Pro"}, "plan": {"name": "Enterprise"},
        "repository": {"full_name": "octo-org/hello-world"}, "status": "Pending", "priority": "High",
    },
}


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _leaves(v, path + (i,))
    else:
        yield path, doc


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _outputs(doc: Any) -> dict[str, Any]:
    plan = default_plan()
    view = plan.view(None, "application/json")
    out: dict[str, Any] = {}
    for layout, body in (
        ("compact", orjson.dumps(doc)),
        ("indented", orjson.dumps(doc, option=orjson.OPT_INDENT_2)),
        ("escaped", json.dumps(doc, ensure_ascii=True).encode()),
    ):
        assert splice_json(view, body) is not None, f"{layout}: the splice path refused the body"
        out[layout] = orjson.loads(plan.redact_body(body, "application/json").output)
    out["walk"] = plan.redact_json(doc)[0]
    return out


# What the default policy still gets wrong in this set, and why: kept here so that a change
# either way fails a test (and the targets below are measured with these in).
KNOWN_MISSES = {
    # a name under a key that says nothing of people ('carbon copies')
    ("e-signature envelope", ("recipients", "carbonCopies", 0, "name")),
}
KNOWN_FALSE_ALARMS = {
    # one capitalised word under a role key reads as a first name
    ("helpdesk ticket", ("audit", "author")),
}


@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_people_are_redacted_and_nothing_else_changes(kind: str) -> None:
    doc = PAYLOADS[kind]
    outputs = _outputs(doc)
    assert outputs["compact"] == outputs["indented"] == outputs["escaped"] == outputs["walk"]
    out = outputs["walk"]
    for path, value in _leaves(doc):
        got = _at(out, path)
        if isinstance(value, P):
            redacted = isinstance(got, str) and got.startswith("[REDACTED:")
            assert redacted != ((kind, path) in KNOWN_MISSES), (path, value, got)
        elif isinstance(value, X):
            assert got != value, (path, value)
        else:
            assert (got == value) != ((kind, path) in KNOWN_FALSE_ALARMS), (path, value, got)


def _counts() -> tuple[int, int, int, int]:
    people = covered = others = kept = 0
    for doc in PAYLOADS.values():
        out = default_plan().redact_json(doc)[0]
        for path, value in _leaves(doc):
            got = _at(out, path)
            if isinstance(value, P):
                people += 1
                covered += got != value
            elif not isinstance(value, X) and isinstance(value, str):
                others += 1
                kept += got == value
    return people, covered, others, kept


def test_the_targets_hold_on_the_set() -> None:
    """Issue #14: at least 95% of the names covered, 99% of the other strings kept, on a set
    big enough for one miss to show (60 names, 100 other strings)."""
    people, covered, others, kept = _counts()
    assert people >= 60 and others >= 100, (people, others)
    assert covered / people >= 0.95, (covered, people)
    assert kept / others >= 0.99, (kept, others)
