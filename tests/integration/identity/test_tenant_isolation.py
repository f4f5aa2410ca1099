"""Tenant isolation (SPEC T3), checked by walking the schema rather than a hand-kept list.

Every root field must declare a policy. Then every query and every mutation is called as
partner A (an admin, and distributor staff acting for A) with the ids of partner B's objects
and of a customer that is not A's, in every ID argument and input field: no answer may show
any of B's data, and none of B's rows may change. The same walk runs as the primary contact
of one of A's customers (R7), for whom A's other customers, A's staff and A's own settings are
foreign too. A field added later is walked too.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from prism_domain.access import ContactRole, PrincipalKind
from prism_graph.access import POLICY_CLASSES
from prism_graph.database import Database
from prism_graph.identity.secrets import new_token, token_hash
from prism_graph.schema import Mutation, Query, SchemaLimits, Subscription, build_schema
from prism_platform.db import utcnow
from prism_tables.contacts import CustomerContact
from prism_tables.identity import AccessToken
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid

pytestmark = pytest.mark.integration

# Tables whose new rows record what happened, not tenant data.
LOG_TABLES = {
    "audit_events",
    "outbox_events",
    "mail_messages",
    "mail_attachments",
    "alembic_version",
}
OWNER_COLUMNS = ("organisation_id", "owner_id", "partner_id")


def test_every_root_field_declares_a_policy() -> None:
    missing = []
    for root in (Query, Mutation, Subscription):
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            if not any(issubclass(p, POLICY_CLASSES) for p in field.permission_classes):
                missing.append(f"{root.__name__}.{field.python_name}")
    assert missing == [], "declare permission_classes (prism_graph.access) on: " + ", ".join(
        missing
    )


@dataclass
class Foreign:
    ids: list[str]  # global ids of objects A must not reach
    secrets: list[str]  # strings that only B's data contains
    customer_ids: set[int]
    user_ids: set[int]
    client_ids: set[int]
    partner_ids: set[int]  # organisations whose own rows must not change
    own_customer_ids: set[int] = dataclasses.field(default_factory=set)  # the caller's: may change


async def make_foreign_data(anonymous: GraphQLClient, tenants: Tenants) -> Foreign:
    marker = f"bsecret{uuid.uuid4().hex[:8]}"
    b_admin = anonymous.as_(tenants.b.admin)
    ids, secrets, customers = [gid("Organisation", tenants.b.id)], [marker, tenants.b.domain], set()
    for i in range(2):
        created = await b_admin.data(
            "mutation($n: String!) { createCustomer(input: {name: $n}) { customer { id } } }",
            {"n": f"{marker} customer {i}"},
        )
        ids.append(created["createCustomer"]["customer"]["id"])
    direct = await anonymous.as_(tenants.distributor.admin).data(
        "mutation($n: String!) { createCustomer(input: {name: $n}) { customer { id } } }",
        {"n": f"{marker} direct customer"},
    )
    ids.append(direct["createCustomer"]["customer"]["id"])
    client = await b_admin.data(
        "mutation($n: String!) { createApiClient(input: {name: $n}) { apiClient { id clientId } } }",
        {"n": f"{marker} client"},
    )
    ids.append(client["createApiClient"]["apiClient"]["id"])
    secrets.append(client["createApiClient"]["apiClient"]["clientId"])
    ids += [gid("User", pk) for pk in tenants.b.users.values()]
    secrets += [f"admin@{tenants.b.domain}", f"member@{tenants.b.domain}"]
    audit = await b_admin.data("{ auditLog(first: 5) { edges { node { id } } } }")
    ids += [e["node"]["id"] for e in audit["auditLog"]["edges"]]
    for global_id in ids:
        type_name, _, pk = _decode(global_id)
        if type_name == "Customer":
            customers.add(int(pk))
    return Foreign(
        ids=ids,
        secrets=secrets,
        customer_ids=customers,
        user_ids=set(tenants.b.users.values()),
        client_ids=set(),
        partner_ids={tenants.b.id},
    )


def _decode(global_id: str) -> tuple[str, str, str]:
    import base64

    return base64.b64decode(global_id).decode().partition(":")


# Building operations from the schema --------------------------------------------------------


def _leaf_literal(named: Any, foreign_id: str) -> str | None:
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLScalarType):
        return {
            "ID": json.dumps(foreign_id),
            "String": json.dumps("isolation-probe@a.example"),
            "Int": "1",
            "Float": "1.5",
            "Boolean": "false",
            "Date": '"2026-11-01"',
            "DateTime": '"2026-11-01T00:00:00+00:00"',
            "Decimal": '"1"',
            "JSON": "{}",
            "Upload": "null",
        }.get(named.name, json.dumps("probe"))
    return None


def _literal(type_: Any, foreign_id: str) -> str:
    if isinstance(type_, GraphQLNonNull):
        return _literal(type_.of_type, foreign_id)
    if isinstance(type_, GraphQLList):
        return f"[{_literal(type_.of_type, foreign_id)}]"
    if isinstance(type_, GraphQLInputObjectType):
        parts = [
            f"{name}: {_literal(field.type, foreign_id)}"
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) or _mentions_id(field.type)
        ]
        return "{" + ", ".join(parts) + "}"
    literal = _leaf_literal(type_, foreign_id)
    assert literal is not None, type_
    return literal


def _mentions_id(type_: Any, seen: frozenset[str] = frozenset()) -> bool:
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType):
        return named.name == "ID"
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        return any(_mentions_id(f.type, seen | {named.name}) for f in named.fields.values())
    return False


def _arguments(field: GraphQLField, foreign_id: str) -> str:
    parts = [
        f"{name}: {_literal(arg.type, foreign_id)}"
        for name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) or _mentions_id(arg.type)
    ]
    return f"({', '.join(parts)})" if parts else ""


def _selection(schema: GraphQLSchema, type_: Any, depth: int, alias: str = "") -> str:
    named = get_named_type(type_)
    if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
        return ""
    if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
        if depth == 0:
            return "{ __typename }"
        # Aliased per type: fields of the same name may differ in type between them.
        fragments = [
            f"... on {t.name} {_selection(schema, t, depth, alias=t.name + '_')}"
            for t in schema.get_possible_types(named)
        ]
        return "{ __typename " + " ".join(fragments) + " }"
    assert isinstance(named, GraphQLObjectType)
    if depth == 0:
        return "{ __typename }"
    parts = ["__typename"]
    for name, field in named.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        sub = _selection(schema, field.type, depth - 1)
        label = f"{alias}{name}: {name}" if alias else name
        parts.append(f"{label} {sub}".strip())
    return "{ " + " ".join(parts) + " }"


def operations(kind: str, foreign_ids: list[str]) -> list[tuple[str, str]]:
    schema = build_schema(
        SchemaLimits(max_tokens=100_000, max_depth=20, max_aliases=10_000)
    )._schema
    root = schema.query_type if kind == "query" else schema.mutation_type
    assert root is not None
    # One id of each foreign type is enough: resolvers treat every id of a type alike.
    one_per_type = list({_decode(i)[0]: i for i in reversed(foreign_ids)}.values())
    result = []
    for name, field in root.fields.items():
        takes_ids = any(_mentions_id(a.type) for a in field.args.values())
        for foreign_id in one_per_type if takes_ids else one_per_type[:1]:
            op = f"{kind} {{ {name}{_arguments(field, foreign_id)} {_selection(schema, field.type, 3)} }}"
            result.append((name, op))
    return result


# Snapshots of B's rows ----------------------------------------------------------------------


def belongs_to_b(table: str, row: dict[str, Any], foreign: Foreign) -> bool:
    if table == "organisations":
        return row["id"] in foreign.partner_ids
    if table == "customers" and row["id"] in foreign.own_customer_ids:
        return False
    if row.get("customer_id") in foreign.own_customer_ids:
        return False
    if any(row.get(c) in foreign.partner_ids for c in OWNER_COLUMNS):
        return True
    if row.get("customer_id") in foreign.customer_ids or (
        table == "customers" and row["id"] in foreign.customer_ids
    ):
        return True
    return row.get("user_id") in foreign.user_ids or (
        table == "users" and row["id"] in foreign.user_ids
    )


def snapshot(engine: Engine, foreign: Foreign) -> dict[str, list[str]]:
    shot: dict[str, list[str]] = {}
    with Session(engine) as session:
        for table in inspect(engine).get_table_names():
            if table in LOG_TABLES:
                continue
            rows = session.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
            shot[table] = sorted(
                json.dumps(dict(r), default=str, sort_keys=True)
                for r in rows
                if belongs_to_b(table, dict(r), foreign)
            )
    return shot


async def fresh_token(
    database: Database, user_id: int | None = None, *, contact_id: int | None = None
) -> str:
    token = new_token("prism_at")
    async with database.unit_of_work() as uow:
        uow.session.add(
            AccessToken(
                token_hash=token_hash(token),
                principal_kind=PrincipalKind.CONTACT if contact_id else PrincipalKind.USER,
                user_id=user_id,
                contact_id=contact_id,
                expires_at=utcnow().replace(year=utcnow().year + 1),
            )
        )
        await uow.commit()
    return token


@pytest.fixture
def settings(settings: Any) -> Any:
    # The walker's generated selections are large: lift the size limits, keep the policy.
    return settings.model_copy(
        update={"max_tokens": 100_000, "max_depth": 20, "max_aliases": 10_000}
    )


async def contact_of_a(
    anonymous: GraphQLClient, database: Database, tenants: Tenants, foreign: Foreign
) -> int:
    """A verified PRIMARY contact of one of A's customers (the caller), and a customer of A
    that is foreign to it, as are A's staff and A's own rows (R7: a contact reaches only its
    own customer). Returns the contact's id."""
    a_admin = anonymous.as_(tenants.a.admin)
    marker = foreign.secrets[0]
    created = await a_admin.data(
        "mutation($n: String!) { createCustomer(input: {name: $n}) { customer { id } } }",
        {"n": f"{marker} sibling customer"},
    )
    sibling = created["createCustomer"]["customer"]["id"]
    own = await a_admin.data(
        'mutation { createCustomer(input: {name: "Own customer"}) { customer { id } } }'
    )
    own_pk = int(_decode(own["createCustomer"]["customer"]["id"])[2])
    async with database.unit_of_work() as uow:
        contact = CustomerContact(
            customer_id=own_pk,
            display_name="Pat",
            email=f"pat@{tenants.a.domain}",
            role=ContactRole.PRIMARY,
            verified_at=utcnow(),
        )
        uow.session.add(contact)
        await uow.session.flush()
        contact_id = contact.id
        await uow.commit()
    # The sibling first: the walk tries the first id of each type.
    foreign.ids[:0] = [
        sibling,
        tenants.a.gid,
        *(gid("User", pk) for pk in tenants.a.users.values()),
    ]
    foreign.secrets += [f"admin@{tenants.a.domain}", f"member@{tenants.a.domain}"]
    foreign.customer_ids.add(int(_decode(sibling)[2]))
    foreign.user_ids |= set(tenants.a.users.values())
    foreign.partner_ids.add(tenants.a.id)
    foreign.own_customer_ids.add(own_pk)
    return contact_id


@pytest.mark.parametrize(
    "caller", ["partner admin", "distributor acting for A", "primary contact of A's customer"]
)
async def test_nothing_of_another_tenant_can_be_read_or_changed(
    anonymous: GraphQLClient,
    database: Database,
    sync_engine: Engine,
    tenants: Tenants,
    caller: str,
) -> None:
    foreign = await make_foreign_data(anonymous, tenants)
    contact_id = None
    if caller.startswith("primary contact"):
        contact_id = await contact_of_a(anonymous, database, tenants, foreign)
    before = snapshot(sync_engine, foreign)
    assert before["customers"] and before["users"] and before["api_clients"]

    async def as_caller() -> GraphQLClient:
        if caller == "partner admin":
            return anonymous.as_(await fresh_token(database, tenants.a.users["ADMIN"]))
        if contact_id is not None:
            return anonymous.as_(await fresh_token(database, contact_id=contact_id))
        token = await fresh_token(database, tenants.distributor.users["ADMIN"])
        return anonymous.as_(token, prism_acting_for=tenants.a.gid)

    leaks = []
    walked = 0
    for kind in ("query", "mutation"):
        for name, operation in operations(kind, foreign.ids):
            body = await (await as_caller()).post(operation)
            walked += 1
            text_body = json.dumps(body)
            leaks += [f"{kind} {name}: {s}" for s in foreign.secrets if s in text_body]
            errors = body.get("errors") or []
            messages = [e.get("message", "") for e in errors]
            assert "Unexpected error." not in messages, (operation, body)
            # A request the engine refused as invalid would prove nothing: it must have run.
            assert all("path" in e or "extensions" in e for e in errors), (operation, body)

    assert walked > 20
    assert leaks == []
    assert snapshot(sync_engine, foreign) == before


async def test_the_owner_of_a_visible_customer_is_never_another_partner(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    a_admin = anonymous.as_(tenants.a.admin)
    await a_admin.data('mutation { createCustomer(input: {name: "Mine"}) { customer { id } } }')
    page = await a_admin.data(
        "{ customers(first: 50) { edges { node { name owner { name kind } } } } }"
    )
    owners = {e["node"]["owner"]["name"] for e in page["customers"]["edges"]}
    assert owners == {"Partner A"}
