"""The distributor onboards partners through the API (SPEC T1, T4): it lists them (search,
paging, totalCount), creates one and invites its first admin in one step; the admin accepts
through the mailed link. Partner staff are refused; duplicates and bad input change nothing."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest

from tests.integration.identity.conftest import Mailbox, body_text, mailbox
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid, sign_in

__all__ = ["mailbox"]

pytestmark = pytest.mark.integration

CREATE_PARTNER = """
mutation($input: CreatePartnerInput!) {
  createPartner(input: $input) {
    partner { id kind name domain timeZone ownTimeZone }
    admin { id email displayName role status organisation { name } }
    errors { field code message }
  }
}"""
PARTNERS = """
query($search: String, $first: Int, $after: String) {
  partners(search: $search, first: $first, after: $after) {
    totalCount
    edges { node { name domain kind } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ACCEPT = """
mutation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { accessToken errors { field code } }
}"""
PASSWORD = "the partner's first password"


def partner_input(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "name": "Litware Partners",
        "domain": "litware-partners.example",
        "admin": {"email": "lee@litware-partners.example", "displayName": "Lee Litware"},
    }
    return value | changes


async def create_partner(client: GraphQLClient, **changes: Any) -> dict[str, Any]:
    data = await client.data(CREATE_PARTNER, {"input": partner_input(**changes)})
    payload: dict[str, Any] = data["createPartner"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def partner_names(client: GraphQLClient, **variables: Any) -> list[str]:
    page = (await client.data(PARTNERS, {"first": 50, **variables}))["partners"]
    return [e["node"]["name"] for e in page["edges"]]


async def test_the_distributor_creates_a_partner_whose_admin_accepts_by_the_mailed_link(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    created = await create_partner(client, timeZone="Australia/Sydney")

    assert created["errors"] == []
    assert created["partner"] | {"id": None} == {
        "id": None,
        "kind": "PARTNER",
        "name": "Litware Partners",
        "domain": "litware-partners.example",
        "timeZone": "Australia/Sydney",
        "ownTimeZone": "Australia/Sydney",
    }
    assert created["admin"] | {"id": None} == {
        "id": None,
        "email": "lee@litware-partners.example",
        "displayName": "Lee Litware",
        "role": "ADMIN",
        "status": "INVITED",
        "organisation": {"name": "Litware Partners"},
    }
    assert await partner_names(client) == ["Litware Partners", "Partner A", "Partner B"]
    node = await client.data(
        "query($id: ID!) { organisation(id: $id) { name } node(id: $id) { id } }",
        {"id": created["partner"]["id"]},
    )
    assert node["organisation"] == {"name": "Litware Partners"}

    (mail,) = mailbox.deliver()
    assert mail["To"] == "lee@litware-partners.example"
    assert "Litware Partners" in body_text(mail)
    found = re.search(r"accept-invitation\?token=(\S+)", body_text(mail))
    assert found
    accepted = await anonymous.data(
        ACCEPT, {"input": {"token": unquote(found.group(1)), "password": PASSWORD}}
    )
    assert accepted["acceptInvitation"]["errors"] == []

    # The new admin works for the new partner only, and may not onboard partners.
    signed_in = await sign_in(anonymous, "lee@litware-partners.example", PASSWORD)
    lee = anonymous.as_(signed_in["accessToken"])
    me = (await lee.data("{ me { permissions organisation { name } } }"))["me"]
    assert me["organisation"] == {"name": "Litware Partners"}
    assert "MANAGE_USERS" in me["permissions"] and "MANAGE_PARTNERS" not in me["permissions"]
    refused = await lee.post(PARTNERS, {"first": 5})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await lee.data("{ customers(first: 5) { totalCount } }"))["customers"][
        "totalCount"
    ] == 0


async def test_partners_are_searched_and_paged_with_a_total(
    client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    for name in ("Alpine Ski Partners", "Bellows College MSP", "Coho Winery IT"):
        slug = name.lower().replace(" ", "-")
        made = await create_partner(
            client,
            name=name,
            domain=f"{slug}.example",
            admin={"email": f"admin@{slug}.example", "displayName": "Admin"},
        )
        assert made["errors"] == []

    first = (await client.data(PARTNERS, {"first": 2}))["partners"]
    rest = (await client.data(PARTNERS, {"first": 2, "after": first["pageInfo"]["endCursor"]}))[
        "partners"
    ]
    by_search = (await client.data(PARTNERS, {"search": "COHO", "first": 5}))["partners"]
    by_domain = (await client.data(PARTNERS, {"search": "bellows-college", "first": 5}))["partners"]

    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"]
    assert [e["node"]["name"] for e in first["edges"] + rest["edges"]] == [
        "Alpine Ski Partners",
        "Bellows College MSP",
        "Coho Winery IT",
        "Partner A",
    ]
    assert (by_search["totalCount"], [e["node"]["name"] for e in by_search["edges"]]) == (
        1,
        ["Coho Winery IT"],
    )
    assert [e["node"]["name"] for e in by_domain["edges"]] == ["Bellows College MSP"]
    # Acting for a partner, the distributor's staff see that partner alone.
    acting = client.as_(tenants.distributor.admin, prism_acting_for=tenants.a.gid)
    assert await partner_names(acting) == ["Partner A"]


async def test_duplicates_and_bad_input_are_refused_and_change_nothing(
    client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    assert (await create_partner(client))["errors"] == []
    mailbox.deliver()

    same_name = await create_partner(
        client,
        name="  litware   PARTNERS ",
        domain="other.example",
        admin={"email": "x@other.example", "displayName": "X"},
    )
    same_domain = await create_partner(
        client, name="Other", admin={"email": "y@other.example", "displayName": "Y"}
    )
    taken_admin = await create_partner(
        client,
        name="Third",
        domain="third.example",
        admin={"email": f"MEMBER@{tenants.a.domain}", "displayName": "Z"},
    )
    bad = await create_partner(
        client,
        name=" ",
        domain="not a domain",
        timeZone="Mars/Olympus",
        admin={"email": "not-an-address", "displayName": ""},
    )
    no_domain = await create_partner(client, name="Fourth", domain="")

    assert codes(same_name) == [("input.name", "DUPLICATE")]
    assert codes(same_domain) == [("input.domain", "DUPLICATE")]
    assert codes(taken_admin) == [("input.admin.email", "DUPLICATE")]
    assert set(codes(bad)) == {
        ("input.name", "REQUIRED"),
        ("input.domain", "INVALID"),
        ("input.timeZone", "INVALID"),
        ("input.admin.email", "INVALID"),
        ("input.admin.displayName", "REQUIRED"),
    }
    assert codes(no_domain) == [("input.domain", "REQUIRED")]
    assert all(p["partner"] is None and p["admin"] is None for p in (same_name, bad, taken_admin))
    assert await partner_names(client) == ["Litware Partners", "Partner A", "Partner B"]
    users = await client.data('{ users(search: "other.example", first: 5) { totalCount } }')
    assert users["users"]["totalCount"] == 0
    assert len(mailbox.deliver()) == 1  # the first invitation only (the sink keeps all)


async def test_only_the_distributors_admins_onboard_and_partner_staff_are_refused(
    anonymous: GraphQLClient, client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    partner_admin = anonymous.as_(tenants.a.admin)
    distributor_member = anonymous.as_(tenants.distributor.member)
    acting = anonymous.as_(tenants.distributor.admin, prism_acting_for=tenants.a.gid)

    for caller in (partner_admin, anonymous.as_(tenants.b.member), distributor_member):
        body = await caller.post(CREATE_PARTNER, {"input": partner_input()})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert body["errors"][0]["message"] == "You are not allowed to do this."
    for caller in (partner_admin, anonymous.as_(tenants.a.member)):
        body = await caller.post(PARTNERS, {"first": 5})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    unauthenticated = await anonymous.post(PARTNERS, {"first": 5})
    assert unauthenticated["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Distributor members read the list; acting for a partner, nobody onboards.
    assert len(await partner_names(distributor_member)) == 2
    while_acting = await create_partner(acting)
    assert codes(while_acting) == [("input", "NOT_ALLOWED")]
    assert "Prism-Acting-For" in while_acting["errors"][0]["message"]

    assert await partner_names(client) == ["Partner A", "Partner B"]
    assert mailbox.deliver() == []


async def test_organisations_of_other_partners_read_as_missing(
    anonymous: GraphQLClient, client: GraphQLClient, tenants: Tenants
) -> None:
    query = "query($id: ID!) { organisation(id: $id) { name kind } }"
    partner_a = anonymous.as_(tenants.a.member)

    own = await partner_a.data(query, {"id": tenants.a.gid})
    distributor = await partner_a.data(query, {"id": tenants.distributor.gid})
    other = await partner_a.data(query, {"id": tenants.b.gid})
    missing = await partner_a.data(query, {"id": gid("Organisation", 987654)})
    wrong_type = await partner_a.data(query, {"id": gid("Customer", tenants.b.id)})

    assert own["organisation"] == {"name": "Partner A", "kind": "PARTNER"}
    assert distributor["organisation"] == {"name": "Distributor", "kind": "DISTRIBUTOR"}
    assert other == missing == wrong_type == {"organisation": None}
    assert (await client.data(query, {"id": tenants.b.gid}))["organisation"]["name"] == "Partner B"


async def test_distributor_staff_list_one_organisations_users_with_a_total(
    client: GraphQLClient, tenants: Tenants
) -> None:
    query = """query($org: ID) { users(organisationId: $org, first: 1) {
      totalCount edges { node { email } } pageInfo { hasNextPage } } }"""

    all_users = (await client.data(query, {}))["users"]
    of_b = (await client.data(query, {"org": tenants.b.gid}))["users"]
    foreign = (await client.as_(tenants.a.admin).data(query, {"org": tenants.b.gid}))["users"]

    assert all_users["totalCount"] == 6 and all_users["pageInfo"]["hasNextPage"]
    assert of_b["totalCount"] == 2
    assert of_b["edges"][0]["node"]["email"] == f"admin@{tenants.b.domain}"
    assert foreign["totalCount"] == 0 and foreign["edges"] == []
