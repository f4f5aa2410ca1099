"""The PSA a test's program syncs to, Autotask or ConnectWise, each a simulator served on
loopback: how the program is connected to it, a person's hand edits in it, and what the
sync wrote to it (its request log). Tests written against a side run on both PSAs."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import SimHandle
from autotask_sim.errors import ApiFailure
from autotask_sim.faults import Fault
from autotask_sim.metadata import CONTRACTS, ID_START
from connectwise_client import Addition, ConnectWiseClient, Credentials, Reference
from connectwise_sim import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
)
from connectwise_sim import Fault as CwFault
from connectwise_sim import SimHandle as ConnectWiseHandle
from connectwise_sim.entities import ADDITIONS, CATALOG
from connectwise_sim.seed import CUSTOMER_IDS as CW_CUSTOMER_IDS
from connectwise_sim.seed import SUBCATEGORY_ID
from prism_domain.sync import PsaKind
from prism_psa.connections import PsaConfig
from prism_psa.connectwise import ConnectWisePsa
from prism_psa.port import NewAdjustment, NewService, PsaError
from prism_psa.secrets import CredentialCipher
from prism_tables.sync.connections import ProgramSyncSettings, PsaConnection
from tests.support.connectwise import Clock, ConnectWise
from tests.support.psa import (
    RECURRING_CODE_ID,
    TEST_SECRET_KEY,
    configure,
    connect,
    psa_config,
)


class AutotaskSide:
    """The world's PSA when it is Autotask: the simulator's back door, as a person in
    Autotask's UI changes things, and its request log."""

    kind = PsaKind.AUTOTASK
    exact_writes = True  # one adjustment POST per change
    writes_per_decrease = 1

    def __init__(self, handle: SimHandle) -> None:
        self.handle = handle

    def config(self) -> PsaConfig:
        return psa_config(self.handle)

    def connect(self, engine: Engine, partner: int, program: int) -> None:
        connect(engine, partner)
        configure(engine, partner, program)

    def mapped_company(self) -> tuple[int, str]:
        return 175, "Contoso Pty Ltd"

    def add_contract(
        self, *, start: date, end: date | None, usable: bool = True, recurring: bool = True
    ) -> int:
        """A contract as a person makes it in Autotask; `usable` False: inactive (status 0),
        `recurring` False: not a Recurring Service contract (type 1, Time and Materials)."""
        sim = self.handle.sim
        with sim.store.transaction():
            record = sim.rules.blank(CONTRACTS)
            contract_id = sim.store.next_id(CONTRACTS, ID_START[CONTRACTS])
            record.update(
                {
                    "id": contract_id,
                    "companyID": 175,
                    "contractName": f"Recurring {contract_id}",
                    "contractNumber": f"K-{contract_id}",
                    "contractType": 7 if recurring else 1,
                    "contractCategory": 1,
                    "contractPeriodType": 1,
                    "status": 1 if usable else 0,
                    "startDate": f"{start.isoformat()}T00:00:00",
                    "endDate": f"{(end or date(2030, 12, 31)).isoformat()}T00:00:00",
                    "isDefaultContract": False,
                }
            )
            sim.store.put(CONTRACTS, record)
        return contract_id

    def contract_service(self, contract: int, service: int) -> int | None:
        for cs in self.handle.sim.records("ContractServices"):
            if cs["contractID"] == contract and cs["serviceID"] == service:
                return int(cs["id"])
        return None

    def units_on(self, contract: int, service: int, day: date) -> int:
        """The row with the latest start on or before `day` (a row split by an adjustment
        may end on the change day itself)."""
        cs = self.contract_service(contract, service)
        if cs is None:
            return 0
        rows = sorted(self.handle.sim.units(cs), key=lambda r: str(r["startDate"]))
        text = day.isoformat()
        covering = [r for r in rows if str(r["startDate"])[:10] <= text <= str(r["endDate"])[:10]]
        return int(covering[-1]["units"]) if covering else 0

    def edit_units(self, contract: int, service: int, change: int, day: date) -> None:
        """A person adjusts the units by hand (refused below zero, as Autotask does)."""
        with contextlib.suppress(ApiFailure):
            self.handle.sim.adjust_units(contract, service, change, day.isoformat())

    def remove_service(self, contract: int, service: int) -> None:
        cs = self.contract_service(contract, service)
        if cs is not None:
            self.handle.sim.delete("ContractServices", cs)

    def clear_log(self) -> None:
        self.handle.sim.request_log.clear()

    def writes(self, contract: int) -> int:
        """Adjustments Prism's requests made (a lost answer's too: it landed)."""
        return sum(
            1
            for method, path, status in self.handle.sim.request_log
            if method == "POST"
            and path.lower().endswith("serviceadjustments")
            and status in (200, 502)
            and f"/{contract}/" in path
        )

    def adjustments(self) -> list[dict[str, Any]]:
        return list(self.handle.sim.records("ContractServiceAdjustments"))

    def contract_writes(self) -> list[str]:
        """Everything sent to a contract (not the product sync's writes)."""
        return [
            f"{method} {path}"
            for method, path, _ in self.handle.sim.request_log
            if method in ("POST", "PATCH", "PUT")
            and not path.lower().endswith("/query")
            and "/contracts/" in path.lower()
        ]

    def lose_next_write_answer(self) -> None:
        """The next adjustment lands in Autotask, and its answer is lost (a 502)."""
        self.handle.sim.add_fault(
            Fault("lost_response", method="POST", path="ServiceAdjustments", status=502)
        )

    def fail_next_write_before_commit(self) -> None:
        """The next adjustment is refused before Autotask did anything (a 503)."""
        self.handle.sim.add_fault(
            Fault("error", method="POST", path="ServiceAdjustments", times=1, status=503)
        )

    def go_down(self) -> None:
        """Autotask answers 503 to every read of a contract's services until it comes back."""
        self.handle.sim.add_fault(
            Fault("error", method="POST", path="ContractServices/query", times=None, status=503)
        )

    def come_back(self) -> None:
        self.clear_faults()

    def unaccounted(self, contract: int, landed_intents: int) -> int:
        """The sync's adjustments since the log was cleared that no landed intent accounts
        for (one POST per intent; negative: an intent landed with no write)."""
        return self.writes(contract) - landed_intents

    def clear_faults(self) -> None:
        self.handle.sim.faults.clear()

    @property
    def words(self) -> PsaWords:
        return AUTOTASK_WORDS

    def unit_price_on(self, contract: int, service: int, day: date) -> float:
        """The unit price of the units row in force on `day` (the latest start on or
        before it)."""
        cs = self.contract_service(contract, service)
        rows = sorted(self.handle.sim.units(cs or 0), key=lambda r: str(r["startDate"]))
        text = day.isoformat()
        covering = [r for r in rows if str(r["startDate"])[:10] <= text <= str(r["endDate"])[:10]]
        assert covering, f"no units row on {day}"
        return float(covering[-1]["price"])

    def refuse_next_write(self, contract: int) -> None:
        """Autotask refuses the next adjustment to `contract` (the 500 it answers when an
        effective date falls outside the contract's dates)."""
        self.handle.sim.add_fault(
            Fault(
                "error",
                method="POST",
                path=rf"Contracts/{contract}/ServiceAdjustments",
                status=500,
                body={
                    "errors": [
                        "ContractServiceAdjustment effectiveDate must be between the start "
                        "date and end date of the Contract referenced by contractID."
                    ]
                },
            )
        )

    def lock_out(self) -> None:
        """The API user is locked (failed sign-ins, or an administrator)."""
        self.handle.sim.lock_user()

    def deny_writes(self) -> None:
        """The API user's security level loses the right to create adjustments."""
        self.handle.sim.deny("ContractServiceAdjustments", "create")

    def services_by_name(self) -> dict[str, int]:
        """Autotask's services, name -> id."""
        return {str(r["name"]): int(r["id"]) for r in self.handle.sim.records("Services")}

    def make_service_by_hand(self, name: str) -> None:
        """A person makes a service called `name` in the program's billing code."""
        self.handle.sim.rules.create(
            "Services",
            {
                "name": name,
                "description": "Our own bundle",
                "billingCodeID": RECURRING_CODE_ID,
                "periodType": 1,
                "unitPrice": 10,
            },
        )


class ConnectWiseSide:
    """The world's PSA when it is ConnectWise: the simulator served on loopback (the syncer
    opens it through the stored connection, as in production), and a person's hand edits
    made through its API (they are not the sync's writes)."""

    kind = PsaKind.CONNECTWISE
    exact_writes = False  # a decrease is cancel-and-add: one change, several writes
    writes_per_decrease = 2  # the running addition cancelled, the rest added back

    def __init__(self, handle: ConnectWiseHandle | None, cw: ConnectWise | None = None) -> None:
        """On a simulator served on loopback (`handle`), or on one in this process (`cw`,
        whose adapter the test hands the syncer itself)."""
        self.handle = handle
        if cw is None:
            assert handle is not None
            client = ConnectWiseClient(
                Credentials(
                    DEFAULT_COMPANY_ID, DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY, DEFAULT_CLIENT_ID
                ),
                site=handle.url,
            )
            cw = ConnectWise(handle.sim, ConnectWisePsa(client), Clock())
        self.cw = cw
        self._hand_writes: dict[int, int] = {}
        self._hand_adds: dict[int, int] = {}  # the additions among them (POSTs)
        self._agreements: set[int] = set()

    @property
    def url(self) -> str:
        assert self.handle is not None, "a simulator served on loopback"
        return self.handle.url

    def config(self) -> PsaConfig:
        return PsaConfig(
            CredentialCipher(TEST_SECRET_KEY),
            connectwise_client_id=DEFAULT_CLIENT_ID,
            connectwise_allow_http_loopback=True,
        )

    def connect(self, engine: Engine, partner: int, program: int) -> None:
        cipher = CredentialCipher(TEST_SECRET_KEY)
        with Session(engine) as session, session.begin():
            session.add(
                PsaConnection(
                    partner_id=partner,
                    psa=PsaKind.CONNECTWISE.value,
                    username=DEFAULT_COMPANY_ID,
                    site=self.url,
                    secret_encrypted=cipher.encrypt(DEFAULT_PRIVATE_KEY),
                    integration_code_encrypted=cipher.encrypt(DEFAULT_PUBLIC_KEY),
                    status="OK",
                )
            )
        configure(engine, partner, program, billing_code_id=SUBCATEGORY_ID)
        with Session(engine) as session, session.begin():
            row = session.scalar(
                select(ProgramSyncSettings).where(
                    ProgramSyncSettings.partner_id == partner,
                    ProgramSyncSettings.program_id == program,
                )
            )
            assert row is not None
            row.psa = PsaKind.CONNECTWISE.value

    def mapped_company(self) -> tuple[int, str]:
        return CW_CUSTOMER_IDS[0], "Acme Pty Ltd"

    def add_contract(
        self, *, start: date, end: date | None, usable: bool = True, recurring: bool = True
    ) -> int:
        """An agreement as a person makes it in ConnectWise; `usable` False: cancelled,
        `recurring` False: it does not prorate its additions."""
        agreement = self.cw.add_agreement(
            start=start,
            end=end,
            company=CW_CUSTOMER_IDS[0],
            prorate=recurring,
            cancelled=not usable,
        )
        self._agreements.add(agreement)
        return agreement

    def contract_service(self, contract: int, service: int) -> int | None:
        ids = [int(a["id"]) for a in self.cw.additions(contract, service)]
        return min(ids) if ids else None

    def units_on(self, contract: int, service: int, day: date) -> int:
        return self.cw.units_on(contract, service, day)

    def _by_hand(self, contract: int, work: Callable[[], object]) -> None:
        before = self._contract_writes(contract)
        added = self._contract_writes(contract, ("POST",))
        work()
        self._hand_writes[contract] = self._hand_writes.get(contract, 0) + (
            self._contract_writes(contract) - before
        )
        self._hand_adds[contract] = self._hand_adds.get(contract, 0) + (
            self._contract_writes(contract, ("POST",)) - added
        )

    def edit_units(self, contract: int, service: int, change: int, day: date) -> None:
        """A person adds units from `day` on, or ends running additions on `day` and adds
        back what remains (ConnectWise keeps billed additions as they were)."""
        if change > 0:
            self._by_hand(
                contract,
                lambda: self.cw.psa.client.agreements.additions(contract).create(
                    Addition(
                        product=Reference.to(service),
                        quantity=Decimal(change),
                        bill_customer="Billable",
                        effective_date=day,
                    )
                ),
            )
            return
        if self.units_on(contract, service, day) + change < 0:
            return  # there are not that many units to take off
        with contextlib.suppress(PsaError):
            self._by_hand(
                contract,
                lambda: self.cw.psa.create_adjustment(
                    NewAdjustment(
                        contract_id=contract,
                        service_id=service,
                        contract_service_id=self.contract_service(contract, service),
                        effective=day,
                        unit_change=change,
                        unit_price=Decimal("36.00"),
                        unit_cost=Decimal("32.40"),
                    )
                ),
            )

    def remove_service(self, contract: int, service: int) -> None:
        """A person deletes every addition of the product from the agreement."""
        additions = self.cw.psa.client.agreements.additions(contract)
        for addition in self.cw.additions(contract, service):
            self._by_hand(contract, functools.partial(additions.delete, int(addition["id"])))

    def clear_log(self) -> None:
        self.cw.sim.request_log.clear()
        self.cw.sim.lost_answers.clear()
        self._hand_writes.clear()
        self._hand_adds.clear()

    def _contract_writes(
        self, contract: int, methods: tuple[str, ...] = ("POST", "PATCH", "PUT", "DELETE")
    ) -> int:
        """Writes ConnectWise applied to the agreement's additions (a lost answer's too)."""
        answered = [
            (method, path)
            for method, path, status in self.cw.sim.request_log
            if 200 <= status < 300
        ]
        return sum(
            1
            for method, path in [*answered, *self.cw.sim.lost_answers]
            if method in methods and f"/agreements/{contract}/additions" in path
        )

    def writes(self, contract: int) -> int:
        """The sync's writes to the agreement's additions that ConnectWise applied."""
        return self._contract_writes(contract) - self._hand_writes.get(contract, 0)

    def adjustments(self) -> list[dict[str, Any]]:
        return [a for a in self.cw.sim.records(ADDITIONS) if a["agreementId"] in self._agreements]

    def contract_writes(self) -> list[str]:
        """Everything sent to an agreement's additions (not the product sync's writes)."""
        return [
            f"{method} {path}"
            for method, path, _ in self.cw.sim.request_log
            if method in ("POST", "PATCH", "PUT", "DELETE") and "/additions" in path
        ]

    def lose_next_write_answer(self) -> None:
        """The next addition lands in ConnectWise, and its answer is lost (a 502)."""
        self.cw.sim.add_fault(CwFault(502, method="POST", path="/additions", after_write=True))

    def fail_next_write_before_commit(self) -> None:
        """The next addition is refused before ConnectWise did anything (a 503)."""
        self.cw.sim.add_fault(CwFault(503, method="POST", path="/additions"))

    def go_down(self) -> None:
        """ConnectWise answers 503 to every read of an agreement's additions until it comes
        back."""
        self.cw.sim.add_fault(CwFault(503, method="GET", path="/additions", times=10**6))

    def come_back(self) -> None:
        self.clear_faults()

    def unaccounted(self, contract: int, landed_intents: int) -> int:
        """The sync's additions since the log was cleared that no landed intent accounts
        for: each intent adds at most one (an increase its addition, a decrease the units
        added back after cancelling), and no write lands without an intent."""
        added = self._contract_writes(contract, ("POST",)) - self._hand_adds.get(contract, 0)
        if landed_intents == 0:
            return self.writes(contract)
        return max(0, added - landed_intents)

    def clear_faults(self) -> None:
        self.cw.sim.clear_faults()

    @property
    def words(self) -> PsaWords:
        return CONNECTWISE_WORDS

    def unit_price_on(self, contract: int, service: int, day: date) -> float:
        """The unit price of the latest addition with units in effect on `day`."""
        running = [
            a
            for a in self.cw.additions(contract, service)
            if float(a["quantity"]) > 0
            and str(a["effectiveDate"])[:10] <= day.isoformat()
            and (not a.get("cancelledDate") or day.isoformat() < str(a["cancelledDate"])[:10])
        ]
        assert running, f"no addition in effect on {day}"
        return float(max(running, key=lambda a: str(a["effectiveDate"]))["unitPrice"])

    def refuse_next_write(self, contract: int) -> None:
        """ConnectWise refuses the next addition to `contract` with a 400 naming its
        effectiveDate (the envelope and field of docs/connectwise.md; the text is the
        simulator's)."""
        self.cw.sim.add_fault(
            CwFault(
                400,
                method="POST",
                path=rf"/agreements/{contract}/additions$",
                body={
                    "code": "InvalidObject",
                    "message": "agreementAddition object is invalid",
                    "errors": [
                        {
                            "code": "InvalidField",
                            "message": "effectiveDate must be on or after the agreement's "
                            "start date.",
                            "resource": "agreementAddition",
                            "field": "effectiveDate",
                        }
                    ],
                },
            )
        )

    def lock_out(self) -> None:
        """The API member is shut out: its keys are no longer accepted (regenerated, or the
        member removed), the documented 401. ConnectWise shows no "locked" state to the
        API."""
        self.cw.sim.config.private_key = "revoked-" + DEFAULT_PRIVATE_KEY

    def deny_writes(self) -> None:
        """The API member's security role loses the right to add to agreements (403)."""
        self.cw.sim.deny(ADDITIONS, "POST")

    def services_by_name(self) -> dict[str, int]:
        """ConnectWise's catalog items, identifier -> id."""
        return {str(r["identifier"]): int(r["id"]) for r in self.cw.sim.records(CATALOG)}

    def make_service_by_hand(self, name: str) -> None:
        """A person makes a catalog item identified `name` in the program's subcategory."""
        self.cw.psa.create_service(
            NewService(
                name,
                "Our own bundle",
                "Our own bundle",
                Decimal(10),
                Decimal(0),
                SUBCATEGORY_ID,
                None,
            )
        )


PsaSide = AutotaskSide | ConnectWiseSide


@dataclass(frozen=True)
class PsaWords:
    """Fragments of what a partner reads, in each PSA's words."""

    #: A skipped line's reason when its contract is inactive or not the recurring kind.
    unusable_contract: str
    #: The action of a write refused by the contract's dates.
    review_dates: str
    #: The connection's problem, and a fragment of its message, when the API user is
    #: shut out.
    locked_problem: str
    locked_action: str
    #: What a refused right is called.
    security: str


AUTOTASK_WORDS = PsaWords(
    unusable_contract="Recurring Service",
    review_dates="Review the contract in Autotask",
    locked_problem="USER_LOCKED",  # said as locked, not as a wrong secret
    locked_action="uncheck Locked",
    security="security level",
)
CONNECTWISE_WORDS = PsaWords(
    unusable_contract="prorates its additions",
    review_dates="Review the agreement's start and end dates in ConnectWise",
    locked_problem="WRONG_SECRET",
    locked_action="System > Members > API Members",
    security="security role",
)
