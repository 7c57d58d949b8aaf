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
them against each other. A user name and password are sent as a UserName identity token (encrypted with the
server's certificate). A server that refuses the certificate or the user is an error in the connector's health
naming the reason, and the supervisor keeps trying with backoff (an operator may fix the server's trust list).

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
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy
from asyncua.crypto import security_policies
from asyncua.ua.attribute_ids import AttributeIds
from cryptography import x509

from connectors.base import SERVER_START, Health, Quality, Sample, Sink
from connectors.config import OpcUaSecurity, OpcUaServer, OpcUaTag

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
    quality = quality_of(status)
    value = dv.Value.Value if dv.Value is not None else None
    if isinstance(value, ua.LocalizedText):  # e.g. a state machine's CurrentState: its text
        value = value.Text
    when = dv.SourceTimestamp or dv.ServerTimestamp or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return Sample(device, tag, value, quality, when, None if quality == "good" else status_name(status))


# Status codes a server answers when it will not let this client in: said in the operator's words.
_REFUSALS = {
    "BadUserAccessDenied": "the server refused user {user!r}: wrong user name or password",
    "BadIdentityTokenInvalid": "the server refused user {user!r}: wrong user name or password",
    "BadIdentityTokenRejected": "the server does not accept this kind of login (user name/anonymous)",
    "BadCertificateUntrusted": "the server does not trust the node's certificate {cert}: add it to the server's "
                               "trusted certificates",
    "BadCertificateUriInvalid": "the node's certificate {cert} does not name the client's application URI",
    "BadCertificateTimeInvalid": "the node's certificate {cert} is expired or not yet valid",
    "BadSecurityPolicyRejected": "the server does not offer this security policy and mode",
    "No matching endpoints": "the server offers no endpoint with this security policy and mode",
    "BadSecurityChecksFailed": "the security checks failed (certificate, key or policy mismatch)",
}


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


class ServerRefused(ConnectionError):
    """The server would not let this client in (certificate, security policy, user or password)."""


def _refusal(exc: BaseException, cfg: OpcUaServer) -> ServerRefused | None:
    """A ``ServerRefused`` naming the connector and the reason, when ``exc`` is such a refusal."""
    text = f"{type(exc).__name__} {exc}"
    security = cfg.security
    for code, message in _REFUSALS.items():
        if code in text:
            mode = f"{security.policy} {security.mode}" if security else "no security"
            said = message.format(user=cfg.username, cert=security.certificate if security else None)
            return ServerRefused(f"{cfg.name} ({cfg.url}, {mode}): {said} ({code})")
    return None


async def _secure(client: Client, security: OpcUaSecurity) -> None:
    """Set up ``client`` for a Basic256Sha256 channel with the configured certificate and key."""
    uri = application_uri_of(security.certificate.read_bytes())
    if uri is not None:
        client.application_uri = uri
    mode = getattr(ua.MessageSecurityMode, security.mode)
    await client.set_security(security_policies.SecurityPolicyBasic256Sha256, str(security.certificate),
                              str(security.private_key), security.private_key_password,
                              str(security.server_certificate) if security.server_certificate else None, mode)


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


class OpcUaConnector:
    """Stream the configured tags of one OPC UA server as samples."""

    def __init__(self, config: OpcUaServer) -> None:
        self.config = config
        self.name = config.name
        self.health = Health(config.name, "opcua")
        self.subscribed = 0  # monitored items accepted by the server in the current session
        self.refused: dict[str, str] = {}  # tag → status, for monitored items the server refused

    async def run_once(self, sink: Sink) -> None:
        cfg = self.config
        client = Client(cfg.url, timeout=cfg.timeout_s, watchdog_intervall=cfg.watchdog_s)
        if cfg.username is not None:
            client.set_user(cfg.username)
        if cfg.password is not None:
            client.set_password(cfg.password)
        lost = asyncio.Event()
        reason: list[str] = []

        async def on_lost(exc: Exception) -> None:
            reason.append(f"{type(exc).__name__}: {exc}")
            lost.set()

        client.connection_lost_callback = on_lost
        try:
            if cfg.security is not None:
                await _secure(client, cfg.security)
            await client.connect(auto_reconnect=False)
        except Exception as exc:
            refused = _refusal(exc, cfg)
            if refused is None:
                raise
            raise refused from exc
        tasks: list[asyncio.Task[Any]] = []
        try:
            self.health.connected = True
            self.health.connects += 1
            self.health.last_error = None
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
            self.health.connected = False
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2)

    async def _subscribe(self, client: Client, tags: list[OpcUaTag], sink: Sink) -> None:
        cfg = self.config
        sub = await client.create_subscription(cfg.publishing_interval_ms, None, queue_maxsize=200_000,
                                               overflow=OverflowPolicy.WARN)
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
            event = await sub.next_event()
            if event is None:
                continue
            batch: list[Sample] = []
            while True:
                if isinstance(event, DataChangeEvent):
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


async def browse(url: str, *, timeout: float = 4, max_depth: int = 6) -> list[dict[str, str]]:
    """Every variable under Objects: node id, browse path and data type (``takt opcua browse``)."""
    found: list[dict[str, str]] = []
    async with Client(url, timeout=timeout) as client:
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
    return found

