"""The execution engine: one intent through the gate (on the cheapest of its class's venues,
when several list it), then the venue, then the ledger. What the gate needs is fetched by
gate_inputs.py, the order is sent by submission.py, and the outcome is a result.py value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from decimal import Decimal

from smart_routing import logs
from smart_routing.domain.assets import AssetClass
from smart_routing.domain.errors import (
    FillAlreadyRecorded,
    InstrumentUnavailable,
    OrderOutcomeUnknown,
    OrderRejected,
    VenueUnavailable,
)
from smart_routing.domain.money import format_qty
from smart_routing.domain.orders import (
    AccountOwner,
    Order,
    OrderIntent,
    account_owner,
    client_order_id_for,
)
from smart_routing.domain.trading_state import TradingStatus
from smart_routing.execution.gate_inputs import (
    conversion_for,
    fetch_quote,
    read_account,
    trading_status,
)
from smart_routing.execution.market_context import MarketContextCache
from smart_routing.execution.result import (
    GATE_STATUS,
    ExecutionResult,
    ExecutionStatus,
    log_result,
    status_of,
)
from smart_routing.execution.submission import order_request, submit
from smart_routing.gate.decision import GateAction, SmartRoutingDecision, log_decision
from smart_routing.gate.limit_fallback import (
    DEFAULT_LIMIT_TTL_S,
    WideSpreadAction,
    apply_fallback,
    expiry_of,
)
from smart_routing.gate.router import SmartRouter
from smart_routing.gate.venue_selection import choose_venue, chosen_venue
from smart_routing.market.quotes import Quote
from smart_routing.portfolio.ledger import LedgerTrade, trade_from_fill
from smart_routing.ports import (
    Broker,
    Clock,
    InstrumentSource,
    LedgerStore,
    MarketDataProvider,
    OrderCaps,
    TradingStates,
    VenueBreaker,
    VenuePorts,
)


class ExecutionEngine:
    """Runs one OrderIntent to its end through the gate. Safe to call again with the same
    intent. Every port is passed in: nothing defaults to an in-memory stand-in."""

    def __init__(
        self,
        *,
        broker: Broker,
        market_data: MarketDataProvider,
        instruments: InstrumentSource,
        ledger: LedgerStore,
        router: SmartRouter,
        clock: Clock,
        dry_run: bool = False,
        tenant_id: str = "local-tenant",
        uid: str = "local-user",
        market_context: MarketContextCache | None = None,
        wide_spread_action: WideSpreadAction = WideSpreadAction.WAIT,
        limit_ttl_s: float = DEFAULT_LIMIT_TTL_S,
        venues: Mapping[AssetClass, Sequence[VenuePorts]] | None = None,
        trading_states: TradingStates | None = None,
        order_caps: OrderCaps | None = None,
        venue_breaker: VenueBreaker | None = None,
    ) -> None:
        """`venues`: per asset class, the venues to price each order on when more than one
        lists it (venue_selection.py); a class with one venue or none uses the ports above."""
        self.broker = broker
        self.market_data = market_data
        self.instruments = instruments
        self.ledger = ledger
        self.router = router
        self.clock = clock
        self.dry_run = dry_run
        self.tenant_id = tenant_id
        self.uid = uid
        self.market_context = market_context or MarketContextCache(
            market_data, clock, max_quote_age_s=router.policy.max_quote_age_s
        )
        self.wide_spread_action = wide_spread_action
        self.limit_ttl_s = limit_ttl_s
        self.trading_states = trading_states  # None: everyone trades (the embedded default)
        self.order_caps = order_caps  # None: no tenant caps (the embedded default)
        self.venue_breaker = venue_breaker  # None: venue failures trip nothing
        self._choices = {
            asset_class: tuple((p.name, self._venue_engine_on(p)) for p in ports)
            for asset_class, ports in (venues or {}).items()
            if len(ports) > 1
        }

    def execute_intent(
        self,
        intent: OrderIntent,
        *,
        quote: Quote | None = None,
        quote_error: str | None = None,
        dry_run: bool | None = None,
    ) -> ExecutionResult:
        """With a quote given (or `quote_error` saying why there is none), the gate decides on
        it instead of fetching a fresh one."""
        tenant_id, uid = intent.tenant_id or self.tenant_id, intent.uid or self.uid
        if (tenant_id, uid) != (intent.tenant_id, intent.uid):
            intent = intent.model_copy(update={"tenant_id": tenant_id, "uid": uid})
        client_order_id = intent.client_order_id or client_order_id_for(
            tenant_id, uid, intent.idempotency_key
        )

        def result(status: ExecutionStatus, message: str, **parts: object) -> ExecutionResult:
            outcome = ExecutionResult(
                status=status,
                message=message,
                intent=intent,
                client_order_id=client_order_id,
                **parts,
            )
            log_result(outcome)
            return outcome

        try:
            routing = self.decide(intent, quote, quote_error)
        except InstrumentUnavailable as exc:
            return result(ExecutionStatus.ERROR, f"instrument data unavailable: {exc}")
        if routing.action is not GateAction.EXECUTE:
            return result(GATE_STATUS[routing.action], routing.reason, routing=routing)
        dry = self.dry_run if dry_run is None else dry_run
        over_cap = self._over_cap(intent, routing, client_order_id, reserve=not dry)
        if over_cap is not None:
            return result(ExecutionStatus.REJECTED, over_cap, routing=routing)
        if dry:
            return result(ExecutionStatus.DRY_RUN, "dry run: no order sent", routing=routing)
        venue = self._chosen_venue(routing)

        decided_at = self.clock.now()
        expires_at = expiry_of(decided_at, self.limit_ttl_s) if routing.fallback else None
        request = order_request(intent, routing, client_order_id, decided_at, expires_at)
        try:
            order = submit(venue.broker, request)
        except OrderRejected as exc:
            return result(ExecutionStatus.REJECTED, exc.reason, routing=routing)
        except VenueUnavailable as exc:
            self._venue_failed(intent, venue, f"unavailable: {exc}")
            return result(ExecutionStatus.ERROR, f"venue unavailable: {exc}", routing=routing)
        except OrderOutcomeUnknown as exc:
            self._venue_failed(intent, venue, f"outcome unknown: {exc}")
            message = (
                f"order outcome unknown ({exc}); check the venue for client_order_id "
                f"{client_order_id}, or retry with the same idempotency_key"
            )
            return result(ExecutionStatus.UNKNOWN, message, routing=routing)

        if expires_at is not None:  # what the venue does not report back
            order = order.model_copy(
                update={"expires_at": expires_at, "fallback": routing.fallback}
            )
        status, message = status_of(order)
        if expires_at is not None:
            limit = format_qty(routing.limit_price) if routing.limit_price is not None else "?"
            message = f"{message}; limit fallback at {limit} until {expires_at:%H:%M:%S} UTC"
        if not order.has_fill:
            return result(status, message, routing=routing, order=order)
        try:
            trade = venue._record(intent, order, routing)
        except FillAlreadyRecorded as exc:
            return result(status, f"{message}; {exc}", routing=routing, order=order)
        except Exception as exc:  # the fill happened; say so, and how to record it
            message = (
                f"{message}, but the ledger write failed ({type(exc).__name__}: {exc}); "
                "retry with the same idempotency_key to record it"
            )
            logs.log_event(
                logs.LEDGER_WRITE_FAILED,
                severity="ERROR",
                client_order_id=client_order_id,
                error=str(exc),
            )
            return result(status, message, routing=routing, order=order)
        return result(status, message, routing=routing, order=order, trade=trade)

    def _venue_failed(self, intent: OrderIntent, venue: ExecutionEngine, failure: str) -> None:
        """Count the failure towards the venue's circuit breaker for the tenant. The order's
        result stands whatever happens here: a breaker that cannot record is logged."""
        if self.venue_breaker is None:
            return
        assert intent.asset_class is not None
        owner = self.owner_of(intent.tenant_id, intent.uid)
        name = venue.broker.venue_for(intent.asset_class)
        try:
            self.venue_breaker.record_failure(owner.tenant_id, name, failure)
        except Exception as exc:
            logs.log_event(
                logs.LogEvent.VENUE_FAILURE_RECORDED, severity="ERROR", tenant_id=owner.tenant_id,
                venue=name, failure=failure, error=f"not recorded: {exc}",
            )  # fmt: skip

    def _over_cap(
        self,
        intent: OrderIntent,
        routing: SmartRoutingDecision,
        client_order_id: str,
        *,
        reserve: bool,
    ) -> str | None:
        """The tenant's caps on the order's notional in the account currency: why it may not
        go out, or None. Caps that cannot be read send nothing (they never fail open)."""
        notional = account_notional(routing)
        if self.order_caps is None or notional is None:
            return None
        currency = routing.account_currency or routing.currency
        owner = self.owner_of(intent.tenant_id, intent.uid)
        day = self.clock.now().astimezone(UTC).date()
        try:
            problem = self.order_caps.admit(
                owner, notional, currency, client_order_id, day, reserve
            )
        except Exception as exc:
            problem = f"the tenant's order limits could not be read ({exc}); nothing sent"
        if problem is not None:
            logs.log_event(
                logs.LogEvent.ORDER_LIMIT_REFUSED, severity="WARNING", tenant_id=owner.tenant_id,
                uid=owner.uid, client_order_id=client_order_id, reason=problem,
            )  # fmt: skip
        return problem

    def decide(
        self, intent: OrderIntent, quote: Quote | None = None, quote_error: str | None = None
    ) -> SmartRoutingDecision:
        """The gate's decision (with the limit fallback, when configured), logged once.
        Raises InstrumentUnavailable when the venue's instrument data cannot be read.

        With several venues for the class, each is priced on its own quote (a `quote` given is
        not used) and the decision is the chosen venue's, listing the candidates."""
        assert intent.asset_class is not None  # OrderIntent fills it in
        choices = self._choices.get(intent.asset_class) if self._choices else None
        # Read once per decision, whatever the number of venues priced.
        trading = trading_status(self.trading_states, self.owner_of(intent.tenant_id, intent.uid))
        decision = (
            self._gate(intent, quote, quote_error, trading)
            if choices is None
            else self._decide_across(intent, choices, trading)
        )
        log_decision(decision)
        return decision

    def _gate(
        self,
        intent: OrderIntent,
        quote: Quote | None,
        quote_error: str | None,
        trading: TradingStatus,
    ) -> SmartRoutingDecision:
        """The gate on this engine's venue, not logged."""
        assert intent.asset_class is not None
        trading = trading.on_venue(self.broker.venue_for(intent.asset_class))
        spec = self.instruments.get_instrument(intent.symbol, intent.asset_class)
        now = self.clock.now()
        owner = self.owner_of(intent.tenant_id, intent.uid)
        decision = self.router.precheck(intent, spec, now, trading)
        if decision is None:
            if quote is None and quote_error is None:
                quote, quote_error = fetch_quote(self.market_data, intent.symbol, spec)
            account = read_account(self.broker, spec, owner)
            conversion = conversion_for(
                self.market_data, spec, account, now, self.router.policy.max_quote_age_s
            )
            session = self.router.policy.sessions.session_of(spec.asset_class, now)
            market = self.market_context.context(spec.symbol, spec.asset_class, quote, session)
            decision = self.router.decide(
                intent,
                spec,
                quote,
                now,
                account,
                conversion,
                quote_error,
                prechecked=True,
                market=market,
                trading=trading,
            )
            decision = apply_fallback(
                self.router, self.wide_spread_action, self.limit_ttl_s, intent, spec, decision,
                now, account, conversion, trading,
            )  # fmt: skip
        return decision

    def _decide_across(
        self,
        intent: OrderIntent,
        choices: tuple[tuple[str, ExecutionEngine], ...],
        trading: TradingStatus,
    ) -> SmartRoutingDecision:
        priced: list[tuple[str, SmartRoutingDecision | str]] = []
        for name, venue in choices:
            try:
                priced.append((name, venue._gate(intent, None, None, trading)))
            except InstrumentUnavailable as exc:  # this venue does not list it
                priced.append((name, f"instrument unavailable: {exc}"))
        return choose_venue(priced)[1]

    def _chosen_venue(self, routing: SmartRoutingDecision) -> ExecutionEngine:
        """The engine of the venue the decision chose: this one unless venues were priced."""
        chosen = chosen_venue(routing)
        if chosen is None:
            return self
        return dict(self._choices[routing.asset_class])[chosen]

    def _venue_engine_on(self, ports: VenuePorts) -> ExecutionEngine:
        """This engine's gate policy and ledger on one venue's ports and fees."""
        return ExecutionEngine(
            broker=ports.broker,
            market_data=ports.market_data,
            instruments=ports.instruments,
            ledger=self.ledger,
            router=SmartRouter(self.router.policy, ports.fees, enabled=self.router.enabled),
            clock=self.clock,
            tenant_id=self.tenant_id,
            uid=self.uid,
            wide_spread_action=self.wide_spread_action,
            limit_ttl_s=self.limit_ttl_s,
            trading_states=self.trading_states,
        )

    def precheck(self, intent: OrderIntent) -> SmartRoutingDecision | None:
        """The gate's instrument and quantity checks alone: the failing decision (logged), or
        None. Raises InstrumentUnavailable when the instrument data cannot be read. A class
        priced on several venues gets None: each venue's gate runs these checks on its spec."""
        assert intent.asset_class is not None  # OrderIntent fills it in
        if self._choices and intent.asset_class in self._choices:
            return None
        spec = self.instruments.get_instrument(intent.symbol, intent.asset_class)
        trading = trading_status(
            self.trading_states, self.owner_of(intent.tenant_id, intent.uid)
        ).on_venue(self.broker.venue_for(intent.asset_class))
        decision = self.router.precheck(intent, spec, self.clock.now(), trading)
        if decision is not None:
            log_decision(decision)
        return decision

    def venue_for(self, intent: OrderIntent) -> str:
        assert intent.asset_class is not None
        return self.broker.venue_for(intent.asset_class)

    def venues_for(self, asset_class: AssetClass) -> tuple[str, ...]:
        """Every venue an order of the class may go to: its candidates, else its one venue."""
        choices = self._choices.get(asset_class)
        return tuple(n for n, _ in choices) if choices else (self.broker.venue_for(asset_class),)

    def owner_of(self, tenant_id: str | None, uid: str | None) -> AccountOwner:
        """Whose account: the intent's tenant and user, else the engine's configured ones."""
        return account_owner(tenant_id or self.tenant_id, uid or self.uid)

    def _record(
        self, intent: OrderIntent, order: Order, routing: SmartRoutingDecision
    ) -> LedgerTrade:
        owner = self.owner_of(intent.tenant_id, intent.uid)
        trade = trade_from_fill(
            order,
            spec=routing.instrument,
            fee_schedule=self.router.fees,
            tenant_id=owner.tenant_id,
            uid=owner.uid,
            strategy_id=intent.strategy_id,
            estimated_slippage=routing.estimated_slippage
            if routing.estimated_slippage is not None
            else intent.estimated_slippage,
            filled_at=order.filled_at or self.clock.now(),
            arrival=order.arrival,
        )
        return self.ledger.append(trade)


def account_notional(routing: SmartRoutingDecision) -> Decimal | None:
    """The order's notional in the account currency: as the gate converted it, else its own
    when it is in that currency (a sale that needed no buying power); None when unknown."""
    if routing.notional_in_account_currency is not None:
        return routing.notional_in_account_currency
    if routing.account_currency in (None, routing.currency):
        return routing.notional
    return None
