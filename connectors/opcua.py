"""OPC UA client connector (asyncua): subscriptions per tag, status codes as quality, reconnect with re-subscription.

Each ``run_once`` makes a fresh client and session, creates one subscription with one monitored item per tag
(its own sampling interval, queue size and deadband) and streams data changes until the link is lost; then the
supervisor (``connectors.base.supervise``) starts it again after a backoff. A new session after a server restart
therefore always has new subscriptions: asyncua's own ``auto_reconnect`` is not used (after a restart its
subscriptions were reported dead, opcua-asyncio issues 70 and 288, and resumed data late). The first
notification of every monitored item carries the item's current value, so nothing that changed during the
outage is missed for state-like and counter-like signals.

Security: with a ``security`` section the channel is Basic256Sha256 (Sign or SignAndEncrypt) with the node's
application certificate and key; the client's application URI is taken from that certificate, as servers check
them against each other. Trust goes both ways (``connectors.opcua_trust``): before the channel is opened the
server's certificate, as its endpoint presents it, is checked against the pinned one, the node's trust list, or a
certificate trusted on first use, and exactly that certificate is then required of the server. A user name and
password are sent as a UserName identity token (encrypted with the server's certificate). A refusal either way
names its cause (the node does not trust the server's certificate, the server does not trust the node's, the
pinned certificate differs, anonymous logon not allowed, wrong user or password) in the connector's health, and the
supervisor keeps trying with backoff (an operator may fix a trust list).

Deadbands: an absolute deadband is the server's filter. A percent deadband is a percentage of the node's
``EURange`` span (OPC UA Part 8, analog items only): the connector reads the range when it subscribes, refuses a
tag whose node has none (listed in ``refused`` with the reason, as a server answers BadFilterNotAllowed), asks
the server for the filter, and applies it itself as well, because not every server implements it (asyncua's
server passes every change with a warning). On a server that does filter, the second filter drops nothing: both
compare with the last value reported.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, Subscription
from asyncua.crypto import security_policies
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError
from cryptography import x509

from connectors.base import SERVER_START, Health, Quality, Sample, Sink, WrittenValue
from connectors.config import OpcUaSecurity, OpcUaServer, OpcUaTag
from connectors.opcua_trust import ServerRefused as ServerRefused  # re-exported: raised from here
from connectors.opcua_trust import ServerTrust, TrustDecision, der_of, read_open_faults, thumbprint

log = logging.getLogger("takt.connectors.opcua")
logging.getLogger("asyncua").setLevel(logging.ERROR)  # its reconnect noise is ours to report, once
# A lost link makes the session's publish loop log a traceback before the session is closed: reported above.
logging.getLogger("asyncua.client.ua_session").setLevel(logging.CRITICAL)

_START_TIME = "i=2257"  # Server.ServerStatus.StartTime
_CREATE_CHUNK = 1000  # monitored items per CreateMonitoredItems request
_BATCH = 2000  # samples handed to the sink at once at most


def quality_of(status: ua.StatusCode | None) -> Quality:
    """OPC UA status code → data quality: Good, Uncertain or Bad (its top two bits)."""
    if status is None:
        return "good"
    severity = status.value >> 30
    return "good" if severity == 0 else "uncertain" if severity == 1 else "bad"


def status_name(status: ua.StatusCode | None) -> str | None:
    if status is None or status.value == 0:
        return None
    try:
        return str(status.name)
    except Exception:
        return f"0x{status.value:08X}"


def sample_of(device: str, tag: str, dv: ua.DataValue | None) -> Sample:
    if dv is None:
        return Sample(device, tag, None, "bad", datetime.now(UTC), "no value")
    status = dv.StatusCode
    if status is None or not status.value:  # Good: the common case, without a call
        quality: Quality = "good"
        detail = None
    else:
        quality = quality_of(status)
        detail = None if quality == "good" else status_name(status)
    variant = dv.Value
    value = variant.Value if variant is not None else None
    if type(value) is not float and isinstance(value, ua.LocalizedText):  # noqa: E721 (e.g. a state machine's CurrentState: its text)
        value = value.Text
    when = dv.SourceTimestamp or dv.ServerTimestamp or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return Sample(device, tag, value, quality, when, detail)


# Status codes a server answers when it will not let this client in: the cause, said in the operator's words.
_NODE_UNTRUSTED = ("the server does not trust the node's certificate {cert}: add it to the server's trusted "
                   "certificates (node-opcua, for one, keeps the certificates it refused in its PKI folder's "
                   "rejected/ folder, named by thumbprint: move it into trusted/certs/)")
_REFUSALS: dict[str, tuple[str, str]] = {
    "BadUserAccessDenied": ("user_refused", "the server refused user {user!r}: wrong user name or password"),
    "BadIdentityTokenInvalid": ("user_refused", "the server refused user {user!r}: wrong user name or password"),
    "BadIdentityTokenRejected": ("user_refused", "the server does not accept this kind of login (user name)"),
    "BadCertificateUntrusted": ("node_untrusted", _NODE_UNTRUSTED),
    "BadCertificateUriInvalid": ("certificate", "the node's certificate {cert} does not name the client's "
                                                "application URI"),
    "BadCertificateTimeInvalid": ("certificate", "the node's certificate {cert} is expired or not yet valid"),
    "BadSecurityPolicyRejected": ("policy", "the server does not offer this security policy and mode"),
    "No matching endpoints": ("policy", "the server offers no endpoint with this security policy and mode"),
    # Servers answer a client certificate they do not trust with this at OpenSecureChannel (node-opcua does;
    # Part 4 asks servers not to say more): after the node's own checks it is the server's trust list.
    "BadSecurityChecksFailed": ("node_untrusted", _NODE_UNTRUSTED),
    "BadTcpInternalError": ("certificate", "the server could not read the node's secured request (is the "
                                           "server's certificate the one it uses?)"),
}
_ANONYMOUS_REFUSED = ("the server does not allow anonymous logon: configure username with password_env or "
                      "password_file")


def application_uri_of(certificate: bytes) -> str | None:
    """The first URI in a certificate's subject alternative name (DER or PEM bytes), or None."""
    cert = (x509.load_pem_x509_certificate(certificate) if certificate.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(certificate))
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return str(uris[0]) if uris else None


def _mode(security: OpcUaSecurity | None) -> str:
    return f"{security.policy} {security.mode}" if security else "no security"


def _node_certificate(security: OpcUaSecurity | None) -> str | None:
    if security is None:
        return None
    try:
        return f"{security.certificate} (thumbprint {thumbprint(der_of(security.certificate.read_bytes()))})"
    except (OSError, ValueError):
        return str(security.certificate)


def refused(name: str, url: str, security: OpcUaSecurity | None, said: str, code: str | None,
            cause: str) -> ServerRefused:
    """A ``ServerRefused`` naming the connection, what was said and the status code (if the server gave one)."""
    return ServerRefused(f"{name} ({url}, {_mode(security)}): {said}" + (f" ({code})" if code else ""), cause)


def _refusal_of(exc: BaseException, name: str, url: str, security: OpcUaSecurity | None,
                username: str | None) -> ServerRefused | None:
    if isinstance(exc, ServerRefused):
        return exc
    text = f"{type(exc).__name__} {exc}"
    for code, (cause, message) in _REFUSALS.items():
        if code in text:
            if cause == "user_refused" and username is None:
                cause, message = "anonymous_refused", _ANONYMOUS_REFUSED
            if code in ("BadSecurityChecksFailed", "BadTcpInternalError") and security is None:
                continue
            said = message.format(user=username, cert=_node_certificate(security))
            return refused(name, url, security, said, code, cause)
    return None


def _first_certificate(chain: bytes) -> bytes:
    """The first DER certificate of a chain (an endpoint's ServerCertificate may hold the issuers after it)."""
    if len(chain) < 2 or chain[0] != 0x30:
        return chain
    size = chain[1]
    if size < 0x80:
        return chain[:2 + size]
    n = size & 0x7F
    return chain[:2 + n + int.from_bytes(chain[2:2 + n], "big")]


async def open_session(client: Client, *, name: str, url: str, security: OpcUaSecurity | None,
                       username: str | None, password: str | None, trust: ServerTrust | None) -> TrustDecision | None:
    """Connect ``client``: look at the server's endpoints, check trust and logon, then open the channel and session.

    Returns how the server's certificate is trusted (None without security); raises ``ServerRefused`` naming the
    cause when either side refuses, or the error of a link that could not be made."""
    read_open_faults(client)
    if username is not None:
        client.set_user(username)
    if password is not None:
        client.set_password(password)
    try:
        endpoints = await client.connect_and_get_server_endpoints()
        wanted_policy = (security_policies.SecurityPolicyBasic256Sha256.URI if security is not None
                         else security_policies.SecurityPolicyNone.URI)
        wanted_mode = getattr(ua.MessageSecurityMode, security.mode if security is not None else "None_")
        try:
            endpoint = Client.find_endpoint(endpoints, wanted_mode, wanted_policy)
        except UaError:
            offered = ", ".join(sorted({f"{e.SecurityPolicyUri.rsplit('#', 1)[-1]} {e.SecurityMode.name}"
                                        for e in endpoints})) or "nothing"
            raise refused(name, url, security, "the server offers no endpoint with this security policy and mode "
                          f"(it offers: {offered})", None, "policy") from None
        decision = None
        if security is not None:
            presented = _first_certificate(endpoint.ServerCertificate or b"")
            if not presented:
                raise refused(name, url, security, "the server's endpoint presents no certificate",
                              "no ServerCertificate", "certificate")
            checker = trust or ServerTrust(name, url, pinned=security.server_certificate,
                                           trusted_folder=security.trusted_server_certificates)
            try:
                decision = checker.check(presented)
            except ServerRefused as exc:
                raise refused(name, url, security, str(exc), None, exc.cause) from None
        tokens = {t.TokenType for t in endpoint.UserIdentityTokens or []}
        if username is None and tokens and ua.UserTokenType.Anonymous not in tokens:
            raise refused(name, url, security, _ANONYMOUS_REFUSED, "no Anonymous token in the endpoint",
                          "anonymous_refused")
        if security is not None:
            uri = application_uri_of(security.certificate.read_bytes())
            if uri is not None:
                client.application_uri = uri
            await client.set_security(security_policies.SecurityPolicyBasic256Sha256, str(security.certificate),
                                      str(security.private_key), security.private_key_password, presented,
                                      getattr(ua.MessageSecurityMode, security.mode))
        await client.connect(auto_reconnect=False)
        return decision
    except Exception as exc:
        refusal = _refusal_of(exc, name, url, security, username)
        if refusal is None:
            raise
        raise refusal from exc


@dataclass
class OpcUaHealth(Health):
    """A connector's health with its trust: how the server's certificate is trusted, or why the link was refused."""

    trust: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        shown = super().as_dict()
        shown["trust"] = dict(self.trust)
        return shown


class PercentDeadband:
    """The client side of a percent deadband: a change is kept when it exceeds ``percent`` of the EURange span
    from the last value kept, or when the quality changes."""

    __slots__ = ("limit", "last", "quality")

    def __init__(self, percent: float, low: float, high: float) -> None:
        self.limit = abs(high - low) * percent / 100
        self.last: float | None = None
        self.quality: Quality | None = None

    def keep(self, sample: Sample) -> bool:
        value = sample.value
        if not isinstance(value, int | float) or isinstance(value, bool):
            return True
        if self.last is not None and sample.quality == self.quality and abs(value - self.last) <= self.limit:
            return False
        self.last, self.quality = float(value), sample.quality
        return True


async def _eu_range(client: Client, node_id: str) -> tuple[float, float] | None:
    """The node's EURange (low, high), or None when it has none."""
    try:
        prop = await client.get_node(node_id).get_child("0:EURange")
        rng = await prop.read_value()
    except Exception:  # BadNoMatch and friends: no such property
        return None
    low, high = getattr(rng, "Low", None), getattr(rng, "High", None)
    if not isinstance(low, int | float) or not isinstance(high, int | float) or high == low:
        return None
    return float(low), float(high)


def _filter(tag: OpcUaTag) -> ua.DataChangeFilter | None:
    if tag.deadband is None:
        return None
    f = ua.DataChangeFilter()
    f.Trigger = ua.DataChangeTrigger.StatusValue
    f.DeadbandType = ua.UInt32(ua.DeadbandType.Absolute if tag.deadband.kind == "absolute" else ua.DeadbandType.Percent)
    f.DeadbandValue = ua.Double(tag.deadband.value)
    return f


_INTEGER_RANGES: dict[ua.VariantType, tuple[int, int]] = {
    ua.VariantType.SByte: (-2**7, 2**7 - 1), ua.VariantType.Byte: (0, 2**8 - 1),
    ua.VariantType.Int16: (-2**15, 2**15 - 1), ua.VariantType.UInt16: (0, 2**16 - 1),
    ua.VariantType.Int32: (-2**31, 2**31 - 1), ua.VariantType.UInt32: (0, 2**32 - 1),
    ua.VariantType.Int64: (-2**63, 2**63 - 1), ua.VariantType.UInt64: (0, 2**64 - 1),
}


def setpoint_variant(value: Any, vtype: ua.VariantType | None) -> ua.Variant:
    """``value`` as a Variant of the node's own type (as its current value shows it); ValueError naming why a
    value does not fit that type."""
    number = float(value)
    if vtype in (ua.VariantType.Float, ua.VariantType.Double):
        return ua.Variant(number, vtype)
    if vtype == ua.VariantType.Boolean:
        if number not in (0.0, 1.0):
            raise ValueError(f"the node is a Boolean: 0 or 1, not {value}")
        return ua.Variant(bool(number), vtype)
    if vtype in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[vtype]
        if not number.is_integer():
            raise ValueError(f"the node holds whole numbers ({vtype.name}): {value} is not one")
        if not low <= number <= high:
            raise ValueError(f"{value} does not fit the node's {vtype.name} ({low}..{high})")
        return ua.Variant(int(number), vtype)
    raise ValueError(f"the node's value is a {vtype.name if vtype is not None else 'nothing readable'}: "
                     "not writable as a setpoint")


class BatchSubscription(Subscription):
    """asyncua's subscription in iterator mode, except that the items of a data change notification are handed
    over as one list (the notification's own), where asyncua makes two objects and a queue put and get per value.

    Measured with a full node storing every change of 1,000 tags at 40,000 changes/s offered (py-spy, the main
    thread): asyncua's per-value event objects and queue took ~15 % of the receive loop, the historian's deadband
    and queueing ~24 %, while a raw client of the same library spends everything on decoding; the node received
    ~0.65-0.8 of what the raw client did. Status changes and events are delivered as asyncua delivers them."""

    async def publish_callback(self, publish_result: ua.PublishResult) -> None:
        self.last_publish_at = time.monotonic()
        message = publish_result.NotificationMessage
        if message.NotificationData is None:
            return
        self.last_sequence_number = int(message.SequenceNumber)
        produced = 0
        others = []
        for notification in message.NotificationData:
            if isinstance(notification, ua.DataChangeNotification):
                if notification.MonitoredItems:
                    self._deliver(notification.MonitoredItems)  # type: ignore[arg-type]
                    produced += len(notification.MonitoredItems)
            else:
                others.append(notification)
        for event in self._explode_notifications(others):
            self._deliver(event)
            produced += 1
        self._observe(lambda: self.server.observer.on_notification(self.subscription_id, produced))


async def batch_subscription(client: Client, period_ms: float) -> BatchSubscription:
    """A :class:`BatchSubscription` on ``client``'s session, made as ``Client.create_subscription`` makes one."""
    params = ua.CreateSubscriptionParameters()
    params.RequestedPublishingInterval = period_ms
    params.RequestedLifetimeCount = 10000
    params.RequestedMaxKeepAliveCount = client.get_keepalive_count(period_ms)
    params.MaxNotificationsPerPublish = 10000
    params.PublishingEnabled = True
    params.Priority = 0
    sub = BatchSubscription(client.uaclient.session, params, None, queue_maxsize=10_000, overflow=OverflowPolicy.WARN)
    sub.set_overflow_disconnect_handler(client.uaclient.notify_transport_lost)
    results = await sub.init()
    revised = client.get_subscription_revised_params(params, results)
    if revised:
        await sub.update(revised)
    client._subscriptions.append(sub)  # deleted with the session, as the client's own subscriptions are
    return sub


class OpcUaConnector:
    """Stream the configured tags of one OPC UA server as samples."""

    def __init__(self, config: OpcUaServer, *, data_dir: Path | None = None) -> None:
        self.config = config
        self.name = config.name
        self.trust_health = OpcUaHealth(config.name, "opcua")  # the same object as health, with its trust
        self.health: Health = self.trust_health
        security = config.security
        self.trust = None if security is None else ServerTrust(
            config.name, config.url, pinned=security.server_certificate,
            trusted_folder=security.trusted_server_certificates, trust_on_first_use=security.trust_on_first_use,
            data_dir=data_dir)
        self.subscribed = 0  # monitored items accepted by the server in the current session
        self.refused: dict[str, str] = {}  # tag → status, for monitored items the server refused
        self._client: Client | None = None  # the live session, for setpoint writes
        self._node_ids = {t.name: t.node_id for t in config.tags}

    async def run_once(self, sink: Sink) -> None:
        cfg = self.config
        client = Client(cfg.url, timeout=cfg.timeout_s, watchdog_intervall=cfg.watchdog_s)
        lost = asyncio.Event()
        reason: list[str] = []

        async def on_lost(exc: Exception) -> None:
            reason.append(f"{type(exc).__name__}: {exc}")
            lost.set()

        client.connection_lost_callback = on_lost
        try:
            decision = await open_session(client, name=cfg.name, url=cfg.url, security=cfg.security,
                                          username=cfg.username, password=cfg.password, trust=self.trust)
        except ServerRefused as exc:
            self.trust_health.trust = {**self.trust_health.trust, "refused": exc.cause, "reason": str(exc)}
            raise
        self.trust_health.trust = {**(decision.as_dict() if decision is not None else {}), "refused": None}
        tasks: list[asyncio.Task[Any]] = []
        try:
            self.health.connected = True
            self.health.connects += 1
            self.health.last_error = None
            self._client = client
            started = await client.get_node(_START_TIME).read_value()
            if isinstance(started, datetime):  # first, so a restart is known before the counters' new values
                await sink([Sample(self.name, SERVER_START, started, "good", started)])
            subscribed = [t for t in cfg.tags if t.mode == "subscribe"]
            polled = [t for t in cfg.tags if t.mode == "poll"]
            if subscribed:
                tasks.append(asyncio.create_task(self._subscribe(client, subscribed, sink)))
            if polled:
                tasks.append(asyncio.create_task(self._poll(client, polled, sink)))
            waiter = asyncio.create_task(lost.wait())
            tasks.append(waiter)  # cancelled with the others below, also when this run is cancelled
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t is not waiter and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
            raise ConnectionError(reason[0] if reason else "connection to the server lost")
        finally:
            self._client = None
            self.health.connected = False
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2)

    async def write_setpoints(self, values: Sequence[tuple[str, Any]]) -> list[WrittenValue]:
        """Write each (tag, value) in one Write request on the live session, each as its node's own type (one Read
        learns them), then read them all back in one Read. A status that is not Good (BadNotWritable,
        BadUserAccessDenied, BadOutOfRange ...) is that tag's refusal, by name; the others are written."""
        client = self._client
        if client is None or not self.health.connected:
            raise ConnectionError(f"opcua {self.name} is not connected")
        node_ids = [ua.NodeId.from_string(self._node_ids[name]) for name, _ in values]
        current = await client.uaclient.read_attributes(node_ids, AttributeIds.Value)
        errors: dict[str, str | None] = {}
        writes: list[tuple[str, ua.NodeId, ua.DataValue]] = []
        for (name, value), node_id, dv in zip(values, node_ids, current, strict=True):
            vtype = dv.Value.VariantType if dv.Value is not None and dv.Value.Value is not None else None
            try:
                writes.append((name, node_id, ua.DataValue(setpoint_variant(value, vtype))))
            except ValueError as exc:
                errors[name] = f"{self._node_ids[name]}: {exc}"
        if writes:
            statuses = await client.uaclient.write_attributes([w[1] for w in writes], [w[2] for w in writes])
            for (name, _, _), status in zip(writes, statuses, strict=True):
                errors[name] = None if status.is_good() else (
                    f"{self._node_ids[name]}: the server refused the write ({status_name(status)})")
        answers = await client.uaclient.read_attributes(node_ids, AttributeIds.Value)
        out = []
        for (name, _), dv in zip(values, answers, strict=True):
            value = dv.Value.Value if dv.Value is not None and quality_of(dv.StatusCode) == "good" else None
            out.append(WrittenValue(name, errors[name] is None, value, errors[name]))
        return out

    async def _subscribe(self, client: Client, tags: list[OpcUaTag], sink: Sink) -> None:
        cfg = self.config
        sub = await batch_subscription(client, cfg.publishing_interval_ms)
        by_handle: dict[int, str] = {}
        requests: list[ua.MonitoredItemCreateRequest] = []
        self.refused = {}
        percent: dict[int, PercentDeadband] = {}
        for handle, tag in enumerate(tags, start=1):
            if tag.deadband is not None and tag.deadband.kind == "percent":
                span = await _eu_range(client, tag.node_id)
                if span is None:
                    self.refused[tag.name] = "a percent deadband needs the node's EURange (an analog item)"
                    log.warning("%s: %s not monitored: %s", self.name, tag.name, self.refused[tag.name])
                    continue
                percent[handle] = PercentDeadband(tag.deadband.value, *span)
            rv = ua.ReadValueId()
            rv.NodeId = ua.NodeId.from_string(tag.node_id)
            rv.AttributeId = ua.UInt32(AttributeIds.Value)
            params = ua.MonitoringParameters()
            params.ClientHandle = ua.UInt32(handle)
            params.SamplingInterval = ua.Duration(tag.sampling_interval_ms)
            params.QueueSize = ua.UInt32(tag.queue_size)
            params.DiscardOldest = True
            mfilter = _filter(tag)
            if mfilter is not None:
                params.Filter = mfilter
            req = ua.MonitoredItemCreateRequest()
            req.ItemToMonitor = rv
            req.MonitoringMode = ua.MonitoringMode.Reporting
            req.RequestedParameters = params
            requests.append(req)
            by_handle[handle] = tag.name
        self.subscribed = 0
        # The requests go out together: the server works through them while the next ones are on the wire.
        chunks = [requests[i:i + _CREATE_CHUNK] for i in range(0, len(requests), _CREATE_CHUNK)]
        answers = await asyncio.gather(*(sub.create_monitored_items(chunk) for chunk in chunks))
        for chunk, results in zip(chunks, answers, strict=True):
            for req, result in zip(chunk, results, strict=True):
                name = by_handle[int(req.RequestedParameters.ClientHandle)]
                if isinstance(result, ua.StatusCode):
                    self.refused[name] = status_name(result) or "refused"
                    log.warning("%s: the server refused to monitor %s (%s)", self.name, name, self.refused[name])
                else:
                    self.subscribed += 1
        self.health.refused_tags = dict(self.refused)
        device = self.name
        while True:
            event: Any = await sub.next_event()
            if event is None:
                continue
            batch: list[Sample] = []
            while True:
                if type(event) is list:  # noqa: E721 (a data change notification's items: BatchSubscription)
                    for item in event:
                        handle = item.ClientHandle
                        sample = sample_of(device, by_handle.get(handle, "?"), item.Value)
                        if not percent or handle not in percent or percent[handle].keep(sample):
                            batch.append(sample)
                elif isinstance(event, DataChangeEvent):
                    item = event.data.monitored_item
                    handle = int(item.ClientHandle)
                    sample = sample_of(device, by_handle.get(handle, "?"), item.Value)
                    if not percent or handle not in percent or percent[handle].keep(sample):
                        batch.append(sample)
                if len(batch) >= _BATCH:
                    break
                event = _next_nowait(sub)
                if event is None:
                    break
            if batch:
                self.health.saw(batch)
                await sink(batch)

    async def _poll(self, client: Client, tags: list[OpcUaTag], sink: Sink) -> None:
        nodes = [client.get_node(t.node_id) for t in tags]
        params = ua.ReadParameters()
        params.TimestampsToReturn = ua.TimestampsToReturn.Both
        for n in nodes:
            rv = ua.ReadValueId()
            rv.NodeId = n.nodeid
            rv.AttributeId = ua.UInt32(AttributeIds.Value)
            params.NodesToRead.append(rv)
        interval = self.config.poll_interval_ms / 1000
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            self.health.reads += 1
            values = await client.uaclient.read(params)
            batch = [sample_of(self.name, t.name, dv) for t, dv in zip(tags, values, strict=True)]
            self.health.saw(batch)
            await sink(batch)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))


def _next_nowait(sub: Any) -> Any:
    """The next already-delivered event of ``sub`` without waiting, or None."""
    queue = sub._event_queue  # asyncua keeps iterator-mode events in an asyncio.Queue
    try:
        return queue.get_nowait()
    except asyncio.QueueEmpty:
        return None


async def browse(url: str, *, timeout: float = 4, max_depth: int = 6, security: OpcUaSecurity | None = None,
                 username: str | None = None, password: str | None = None, data_dir: Path | None = None,
                 name: str | None = None) -> list[dict[str, str]]:
    """Every variable under Objects: node id, browse path and data type (``takt opcua browse``).

    With ``security`` the server's certificate is checked as a site's connector checks it (trust on first use
    records into ``data_dir`` under ``name``: the site's server name, default the URL's host and port); a refusal
    raises ``ServerRefused`` naming the cause."""
    found: list[dict[str, str]] = []
    name = name or url.removeprefix("opc.tcp://").split("/", 1)[0]
    client = Client(url, timeout=timeout)
    trust = None if security is None else ServerTrust(
        name, url, pinned=security.server_certificate, trusted_folder=security.trusted_server_certificates,
        trust_on_first_use=security.trust_on_first_use, data_dir=data_dir)
    await open_session(client, name=name, url=url, security=security, username=username, password=password,
                       trust=trust)
    try:
        async def walk(node: Any, path: str, depth: int) -> None:
            if depth > max_depth:
                return
            for child in await node.get_children():
                name = (await child.read_browse_name()).Name
                child_path = f"{path}/{name}"
                node_class = await child.read_node_class()
                if node_class == ua.NodeClass.Variable:
                    dtype = await child.read_data_type_as_variant_type()
                    found.append({"node_id": child.nodeid.to_string(), "path": child_path, "type": dtype.name})
                elif node_class == ua.NodeClass.Object and not (depth == 0 and name == "Server"):
                    await walk(child, child_path, depth + 1)

        await walk(client.nodes.objects, "Objects", 0)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), 2)
    return found
