"""Mutations of customer-account contacts: adding, editing, verifying, roles, deleting, and
their sign-in by e-mailed link. Who may call them is the policy layer's: partner and
distributor staff, API clients and, among contacts, the primary one."""

from __future__ import annotations

from typing import Annotated

import anyio
import strawberry
from strawberry import relay

from prism_domain.access import ContactRole as DomainContactRole
from prism_domain.access import Permission
from prism_domain.errors import ErrorCode, FieldError
from prism_graph.access import public, requires
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.contacts import customer_contacts, edits
from prism_graph.contacts.account_schema import scope_of
from prism_graph.contacts.config import contacts_config
from prism_graph.contacts.inputs import (
    AddCustomerContactInput,
    DeleteCustomerContactInput,
    RequestContactSignInInput,
    ResendCustomerContactVerificationInput,
    SetCustomerContactRoleInput,
    SignInWithContactLinkInput,
    UpdateCustomerContactInput,
    VerifyCustomerContactInput,
)
from prism_graph.contacts.payloads import (
    ContactSignInPayload,
    CustomerContactPayload,
    DeleteCustomerContactPayload,
    RequestContactSignInPayload,
    VerifyCustomerContactPayload,
)
from prism_graph.contacts.types import CustomerContact
from prism_graph.context import Info
from prism_tables.contacts import CustomerContact as CustomerContactRow

SIGN_IN_ANSWER = (
    "If this address belongs to a verified contact, a sign-in link is on its way to it."
)


def _payload(result: CustomerContactRow | list[FieldError]) -> CustomerContactPayload:
    if isinstance(result, list):
        return CustomerContactPayload(contact=None, errors=user_errors(result))
    return CustomerContactPayload(contact=CustomerContact.from_model(result), errors=[])


@strawberry.type
class CustomerContactMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "Add a contact (display name, e-mail) to a customer's account, by default mailing "
            "it a link to verify its address. Refused (LIMIT_REACHED) beyond the account's "
            "contact limit, 5 unless the deployment sets another."
        ),
    )
    async def add_customer_contact(
        self,
        info: Info,
        input: Annotated[
            AddCustomerContactInput,
            strawberry.argument(description="A new contact of a customer's account."),
        ],
    ) -> CustomerContactPayload:
        return _payload(
            await customer_contacts.add_contact(
                info.context.database,
                contacts_config(info.context),
                scope_of(info),
                node_pk(input.customer_id, "Customer"),
                display_name=input.display_name,
                email=input.email,
                send_verification=input.send_verification_email,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "Change a contact's display name or e-mail address. A new address must be "
            "verified again: a verification link is mailed to it, earlier links stop working "
            "(they say they were replaced), the contact's sessions end and it gets no sign-in "
            "link until it has verified. It keeps its role; a PRIMARY or BILLING contact's "
            "new address must be on the required domain (WRONG_DOMAIN otherwise)."
        ),
    )
    async def update_customer_contact(
        self,
        info: Info,
        input: Annotated[
            UpdateCustomerContactInput,
            strawberry.argument(
                description="New name or address of a customer-account contact; what is left out stays."
            ),
        ],
    ) -> CustomerContactPayload:
        return _payload(
            await edits.update_customer_contact(
                info.context.database,
                contacts_config(info.context),
                scope_of(info),
                node_pk(input.id, "CustomerContact"),
                display_name=input.display_name,
                email=input.email,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description='"Verify": mail an unverified contact a fresh verification link; earlier '
        "links stop working and say they were replaced.",
    )
    async def resend_customer_contact_verification(
        self,
        info: Info,
        input: Annotated[
            ResendCustomerContactVerificationInput,
            strawberry.argument(
                description="The unverified contact to mail a fresh verification link."
            ),
        ],
    ) -> CustomerContactPayload:
        return _payload(
            await customer_contacts.resend_verification(
                info.context.database,
                contacts_config(info.context),
                scope_of(info),
                node_pk(input.id, "CustomerContact"),
            )
        )

    @strawberry.mutation(
        permission_classes=[public()],
        description="Open a verification link: its token marks its contact verified. A link "
        "works once; one replaced by a newer link is refused as REPLACED.",
    )
    async def verify_customer_contact(
        self,
        info: Info,
        input: Annotated[
            VerifyCustomerContactInput,
            strawberry.argument(description="The token of a verification link."),
        ],
    ) -> VerifyCustomerContactPayload:
        result = await customer_contacts.verify(info.context.database, input.token)
        if isinstance(result, list):
            return VerifyCustomerContactPayload(verified=False, errors=user_errors(result))
        return VerifyCustomerContactPayload(verified=True, errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "Give a verified contact a role. PRIMARY moves from the current primary to it; "
            "PRIMARY and BILLING addresses must be on the ordering partner's domain (a direct "
            "customer's own domain)."
        ),
    )
    async def set_customer_contact_role(
        self,
        info: Info,
        input: Annotated[
            SetCustomerContactRoleInput,
            strawberry.argument(description="A contact and the role to give it."),
        ],
    ) -> CustomerContactPayload:
        return _payload(
            await customer_contacts.set_role(
                info.context.database,
                scope_of(info),
                node_pk(input.id, "CustomerContact"),
                DomainContactRole(input.role),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "Delete a contact; never the primary, and a BILLING or TECHNICAL contact only "
            "with `confirm: true` (CONFIRMATION_REQUIRED otherwise)."
        ),
    )
    async def delete_customer_contact(
        self,
        info: Info,
        input: Annotated[
            DeleteCustomerContactInput,
            strawberry.argument(description="The customer-account contact to delete."),
        ],
    ) -> DeleteCustomerContactPayload:
        result = await customer_contacts.delete_contact(
            info.context.database,
            scope_of(info),
            node_pk(input.id, "CustomerContact"),
            confirm=input.confirm,
        )
        if isinstance(result, list):
            return DeleteCustomerContactPayload(deleted_id=None, errors=user_errors(result))
        return DeleteCustomerContactPayload(
            deleted_id=relay.GlobalID("CustomerContact", str(result)), errors=[]
        )

    # Contacts sign in ---------------------------------------------------------------------

    @strawberry.mutation(
        permission_classes=[public()],
        description=(
            "A verified contact asks for a sign-in link by e-mail; the answer is the same "
            "whether or not the address is known. A newer request replaces the earlier link."
        ),
    )
    async def request_contact_sign_in(
        self,
        info: Info,
        input: Annotated[
            RequestContactSignInInput,
            strawberry.argument(description="The address a sign-in link is asked for."),
        ],
    ) -> RequestContactSignInPayload:
        ctx = info.context
        config = contacts_config(ctx)
        throttle = config.throttle or ctx.identity.throttle
        key = f"contact:{(input.email or '').strip().lower()[:254]}"
        allowed = await anyio.to_thread.run_sync(throttle.allow, key, ctx.client_address)
        if not allowed:
            return RequestContactSignInPayload(
                message=SIGN_IN_ANSWER,
                errors=user_errors(
                    [FieldError(None, ErrorCode.THROTTLED, "Too many requests; wait 15 minutes.")]
                ),
            )
        errors = await customer_contacts.request_sign_in(ctx.database, config, input.email)
        return RequestContactSignInPayload(message=SIGN_IN_ANSWER, errors=user_errors(errors))

    @strawberry.mutation(
        permission_classes=[public()],
        description="Exchange a sign-in link's token for an access token scoped to the "
        "contact's customer. A link works once; one replaced by a newer link is REPLACED.",
    )
    async def sign_in_with_contact_link(
        self,
        info: Info,
        input: Annotated[
            SignInWithContactLinkInput,
            strawberry.argument(description="The token of a sign-in link."),
        ],
    ) -> ContactSignInPayload:
        result = await customer_contacts.sign_in(
            info.context.database, contacts_config(info.context), input.token
        )
        if isinstance(result, list):
            return ContactSignInPayload(
                access_token=None, expires_at=None, contact=None, errors=user_errors(result)
            )
        return ContactSignInPayload(
            access_token=result.token,
            expires_at=result.expires_at,
            contact=CustomerContact.from_model(result.contact),
            errors=[],
        )
