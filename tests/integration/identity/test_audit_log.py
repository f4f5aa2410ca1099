"""Every mutation is audited (N2): who, acting for whom, what, target, when, outcome; partner
admins read their own partner's log."""

from __future__ import annotations

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid, sign_in

pytestmark = pytest.mark.integration

LOG = """{ auditLog(first: 50) { totalCount edges { node {
  operation actorKind actorLabel actingForPartner target outcome detail occurredAt } } } }"""


async def test_the_log_shows_every_mutation_of_the_partner_with_its_outcome(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    admin = anonymous.as_(tenants.a.admin)
    member = anonymous.as_(tenants.a.member)
    acting = anonymous.as_(tenants.distributor.admin, prism_acting_for=tenants.a.gid)
    created = await admin.data(
        'mutation { createCustomer(input: {name: "Audited Co"}) { customer { id } } }'
    )
    await admin.data('mutation { createCustomer(input: {name: ""}) { errors { code } } }')
    await member.post(
        "mutation($id: ID!) { deactivateUser(input: {id: $id}) { errors { code } } }",
        {"id": gid("User", tenants.a.users["ADMIN"])},
    )
    await acting.data(
        'mutation { createCustomer(input: {name: "Made For A"}) { customer { owner { name } } } }'
    )
    await anonymous.as_(tenants.b.admin).data(
        'mutation { createCustomer(input: {name: "B Only"}) { errors { code } } }'
    )

    log = (await admin.data(LOG))["auditLog"]
    entries = [e["node"] for e in log["edges"]]
    assert log["totalCount"] == 4

    assert [(e["operation"], e["outcome"]) for e in entries] == [
        ("createCustomer", "SUCCESS"),  # newest first: the distributor acting for A
        ("deactivateUser", "DENIED"),
        ("createCustomer", "REFUSED"),
        ("createCustomer", "SUCCESS"),
    ]
    acting_entry, denied, refused, first = entries
    assert acting_entry["actorLabel"] == f"admin@{tenants.distributor.domain}"
    assert acting_entry["actingForPartner"] is True
    assert denied["actorLabel"] == f"member@{tenants.a.domain}"
    assert refused["detail"] == "input.name: REQUIRED"
    assert first["target"] == created["createCustomer"]["customer"]["id"]
    assert first["actingForPartner"] is False
    assert all(e["occurredAt"] for e in entries)

    b_entries = (await anonymous.as_(tenants.b.admin).data(LOG))["auditLog"]["edges"]
    assert [e["node"]["operation"] for e in b_entries] == ["createCustomer"]
    paged = await anonymous.as_(tenants.a.admin).data(
        "{ auditLog(first: 1) { totalCount edges { cursor } } }"
    )
    assert paged["auditLog"]["totalCount"] == 4 and len(paged["auditLog"]["edges"]) == 1


async def test_members_cannot_read_the_log(anonymous: GraphQLClient, tenants: Tenants) -> None:
    body = await anonymous.as_(tenants.a.member).post(LOG)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_secrets_never_reach_the_log(anonymous: GraphQLClient, tenants: Tenants) -> None:
    refused = await sign_in(anonymous, "x@a.example", "hunter2-hunter2")
    assert [e["code"] for e in refused["errors"]] == ["INVALID_CREDENTIALS"]
    everything = await anonymous.as_(tenants.distributor.admin).data(LOG)
    assert "hunter2" not in str(everything)
    (entry,) = [
        e["node"] for e in everything["auditLog"]["edges"] if e["node"]["operation"] == "signIn"
    ]
    assert entry["outcome"] == "REFUSED" and entry["actorKind"] == "ANONYMOUS"
    assert entry["actorLabel"] == "anonymous (x@a.example)"
