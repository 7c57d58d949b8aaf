"""An OPC UA machine: an asyncua server exposing a simulated ``Machine`` as variables, with fault injection.

Variables live under ``Objects/<name>`` in namespace ``urn:takt:sim`` with string node ids
``ns=<ns>;s=<name>.<Variable>``: State (Int32, PackML number), Alarm (Int32, reason code), GoodCount and
ScrapCount (UInt32), Temperature and Pressure (Double), Cycles (UInt64). Each change is written with its own
source timestamp, as a PLC stamps its values. Setpoints a client may write (Double, the only writable variables):
SpeedSetpoint, TempSetpoint, and SP000.. (``extra_setpoints``, for load tests).

Faults: ``stop()``/``start()`` (the server goes away and comes back on the same port), ``restart()`` (a PLC
restart: down, counters reset to 0, up again), ``freeze()`` (values stop changing while the machine goes on),
``set_bad(variable)`` (a value with a Bad status code, e.g. a broken sensor).

Security, as a real machine's server is set up: ``security`` lists the endpoints offered (``None``,
``Basic256Sha256_Sign``, ``Basic256Sha256_SignAndEncrypt``); with a secure endpoint the server has its own
self-signed application certificate (made in ``certificate_folder``) and accepts only client certificates
listed in ``trusted_certificates`` (others: BadCertificateUntrusted). ``users`` (name → password) turns
anonymous access off: a session needs one of those user names with its password (else BadUserAccessDenied).

Companion specifications: ``nodesets`` are NodeSet2 XML files imported into the address space after the machine's
own namespace (e.g. DI, Machinery, PackML: ``takt reference fetch`` installs the pinned ones, ``takt reference
status`` says where). With PackML among them the
machine is also a PackML object, ``Objects/PackMLObjects/<name>`` of PackMLBaseObjectType, whose
``BaseStateMachine/CurrentState`` (the state's name, e.g. "Execute"), ``Status/CurMachSpeed`` (parts per minute)
and ``Status/EquipmentStarved`` follow the machine.
"""
from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions
from asyncua.server.server import Server
from asyncua.ua.status_codes import StatusCodes
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from simulators._tasks import SimulatedPlc, cancel_and_wait
from simulators.certificates import application_certificate
from simulators.machine import Machine, PackMLState, Snapshot

NAMESPACE = "urn:takt:sim"
VARIABLES: dict[str, ua.VariantType] = {
    "State": ua.VariantType.Int32,
    "Alarm": ua.VariantType.Int32,
    "GoodCount": ua.VariantType.UInt32,
    "ScrapCount": ua.VariantType.UInt32,
    "Temperature": ua.VariantType.Double,
    "Pressure": ua.VariantType.Double,
    "Cycles": ua.VariantType.UInt64,
}
# Engineering-unit ranges of the analog values, published as their EURange property as on an AnalogItem: a
# client's percent deadband is a percentage of this span (OPC UA Part 8).
EU_RANGES: dict[str, tuple[float, float]] = {"Temperature": (0.0, 200.0), "Pressure": (0.0, 10.0)}
_FIELDS = {"State": "state", "Alarm": "alarm", "GoodCount": "good", "ScrapCount": "scrap",
           "Temperature": "temperature", "Pressure": "pressure", "Cycles": "cycles"}

log = logging.getLogger("takt.sim.opcua")

PACKML_NAMESPACE = "http://opcfoundation.org/UA/PackML/"
PACKML_OBJECTS = 72  # ns=PackML;i=72: the PackMLObjects folder under Objects
PACKML_BASE_OBJECT_TYPE = 6  # ns=PackML;i=6: PackMLBaseObjectType

SECURITY_POLICIES = {
    "None": ua.SecurityPolicyType.NoSecurity,
    "Basic256Sha256_Sign": ua.SecurityPolicyType.Basic256Sha256_Sign,
    "Basic256Sha256_SignAndEncrypt": ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
}


class PasswordUsers:
    """The server's user list: a session is activated only with a known user name and its password."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users = dict(users)
        self.refused = 0  # sessions refused for a wrong user name or password

    def get_user(self, iserver: Any, username: str | None = None, password: str | None = None,
                 certificate: Any = None) -> User | None:
        if username is not None and username in self.users and self.users[username] == password:
            return User(role=UserRole.User, name=username)
        self.refused += 1
        log.warning("refused a session for user %r: wrong user name or password", username)
        return None


class TrustList:
    """Accept a client certificate that is valid now, names the client's application URI, and is one of the
    trusted certificates (compared byte for byte, as a server's trusted folder of self-signed certificates)."""

    def __init__(self, certificates: Sequence[Path]) -> None:
        self.trusted = {_der(Path(p).read_bytes()) for p in certificates}
        self.basic = CertificateValidator(CertificateValidatorOptions.BASIC_VALIDATION
                                          | CertificateValidatorOptions.PEER_CLIENT)
        self.refused = 0

    async def __call__(self, cert: x509.Certificate, app: ua.ApplicationDescription) -> None:
        try:
            await self.basic.validate(cert, app)
        except ServiceError:
            self.refused += 1
            raise
        if cert.public_bytes(serialization.Encoding.DER) not in self.trusted:
            self.refused += 1
            log.warning("refused an untrusted client certificate: %s", cert.subject.rfc4514_string())
            raise ServiceError(StatusCodes.BadCertificateUntrusted)


def _der(raw: bytes) -> bytes:
    if raw.lstrip().startswith(b"-----"):
        return x509.load_pem_x509_certificate(raw).public_bytes(serialization.Encoding.DER)
    return raw


def _node_id(identifier: str, namespace: int) -> ua.NodeId:
    return ua.NodeId(ua.String(identifier), ua.Int16(namespace))


class OpcUaMachine(SimulatedPlc):
    """Serve ``machine`` at ``opc.tcp://host:port/takt/``; the model advances every ``tick_s`` of wall time."""

    def __init__(self, machine: Machine, *, name: str = "M-ASSY", host: str = "127.0.0.1", port: int = 4840,
                 tick_s: float = 0.05, extra_variables: int = 0, extra_setpoints: int = 0, security: Sequence[str] = ("None",),
                 trusted_certificates: Sequence[Path] = (), users: Mapping[str, str] | None = None,
                 certificate_folder: Path | None = None, nodesets: Sequence[Path] = ()) -> None:
        unknown = [p for p in security if p not in SECURITY_POLICIES]
        if unknown or not security:
            raise ValueError(f"security: {unknown or 'nothing'} is not among {', '.join(SECURITY_POLICIES)}")
        self.machine = machine
        self.name = name
        self.host = host
        self.port = port
        self.tick_s = tick_s
        self.extra_variables = extra_variables  # Tag0000.. Double variables (for load tests)
        # Setpoints a client may write (Double): SpeedSetpoint and TempSetpoint, and SP000.. for load tests
        self.setpoints: dict[str, float] = {"SpeedSetpoint": 60.0, "TempSetpoint": 65.0}
        self.setpoints.update({f"SP{i:03d}": 0.0 for i in range(extra_setpoints)})
        self.frozen = False
        self.namespace_index = 2
        self._server: Server | None = None
        self._built: Server | None = None
        self._start_time: ua.DateTime | None = None
        self._keep_start_time = False
        self._nodes: dict[str, Any] = {}
        self._last: dict[str, Any] = {}
        self._bad: set[str] = set()
        self._ticker: asyncio.Task[None] | None = None
        self.restarts = 0
        self.security = tuple(security)
        self.users = PasswordUsers(users) if users is not None else None
        self.trust_list = TrustList(trusted_certificates) if any(p != "None" for p in security) else None
        self._certificate_folder = certificate_folder
        self.application_uri = f"urn:takt:sim:{name}"
        self.certificate: Path | None = None  # the server's application certificate (DER), once built
        self.nodesets = [Path(p) for p in nodesets]
        missing = [str(p) for p in self.nodesets if not p.is_file()]
        if missing:
            raise ValueError(f"nodesets: no such file {', '.join(missing)}")
        self.packml_node_ids: dict[str, str] = {}  # CurrentState, CurMachSpeed, EquipmentStarved → node id
        self._packml: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return self.url_for(self.name, self.host, self.port)

    @staticmethod
    def url_for(name: str, host: str, port: int) -> str:
        """The endpoint URL a machine named ``name`` serves at on ``host:port``."""
        return f"opc.tcp://{host}:{port}/takt/"

    def node_id(self, variable: str) -> str:
        return f"ns={self.namespace_index};s={self.name}.{variable}"

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Start serving (build the address space the first time; later starts reuse it, as a PLC keeps its
        program over a restart)."""
        if self._server is not None:
            return
        if self._built is None:
            self._built = await self._build()
        server = self._built
        server.iserver._time_task_stop = False
        await server.start()
        if self._start_time is None or not self._keep_start_time:
            self._start_time = ua.DateTime.now(UTC)
        # ServerStatus.StartTime: new after a PLC restart, unchanged after a network outage (stop/start)
        await server.get_node("i=2257").write_value(ua.Variant(self._start_time, ua.VariantType.DateTime))
        self._keep_start_time = True
        self._server = server
        self._last = {}
        await self._publish(self.machine.snapshot(), force=True)
        self._ticker = asyncio.create_task(self._tick(), name=f"sim-opcua-{self.name}")

    async def _build(self) -> Server:
        server = Server(user_manager=self.users)  # type: ignore[arg-type]  # any object with get_user
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name(f"Takt simulated machine {self.name}")
        await server.set_application_uri(self.application_uri)
        server.set_security_policy([SECURITY_POLICIES[p] for p in self.security])
        if self.trust_list is not None:
            folder = self._certificate_folder or Path(tempfile.mkdtemp(prefix="takt-sim-opcua-"))
            self.certificate, key = application_certificate(folder, f"{self.name}-server", self.application_uri,
                                                            role="server", hostnames=("localhost", self.host))
            await server.load_certificate(str(self.certificate))
            await server.load_private_key(str(key))
            server.set_certificate_validator(self.trust_list)
        if self.users is not None:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        self.namespace_index = await server.register_namespace(NAMESPACE)
        ns = self.namespace_index
        obj = await server.nodes.objects.add_object(_node_id(self.name, ns), ua.QualifiedName(self.name, ns))
        snap = self.machine.snapshot()
        self._nodes = {}
        for var, vtype in VARIABLES.items():
            value = getattr(snap, _FIELDS[var])
            node = await obj.add_variable(_node_id(f"{self.name}.{var}", ns), ua.QualifiedName(var, ns),
                                          ua.Variant(value, vtype))
            if var in EU_RANGES:
                low, high = EU_RANGES[var]
                await node.add_property(_node_id(f"{self.name}.{var}.EURange", ns), ua.QualifiedName("EURange", 0),
                                        ua.Range(Low=low, High=high))
            self._nodes[var] = node
        for var, value in self.setpoints.items():  # writable, as a PLC's recipe parameters are
            node = await obj.add_variable(_node_id(f"{self.name}.{var}", ns), ua.QualifiedName(var, ns),
                                          ua.Variant(value, ua.VariantType.Double))
            await node.set_writable()
            self._nodes[var] = node
        for i in range(self.extra_variables):
            var = f"Tag{i:05d}"
            self._nodes[var] = await obj.add_variable(_node_id(f"{self.name}.{var}", ns),
                                                      ua.QualifiedName(var, ns), ua.Variant(0.0, ua.VariantType.Double))
        for nodeset in self.nodesets:
            await server.import_xml(str(nodeset))
        if self.nodesets:
            await self._add_packml_object(server)
        return server

    async def _add_packml_object(self, server: Server) -> None:
        """The machine as a PackML object, when the PackML nodeset was imported."""
        try:
            pk = await server.get_namespace_index(PACKML_NAMESPACE)
        except ValueError:
            return
        ns = self.namespace_index
        folder = server.get_node(ua.NodeId(ua.Int32(PACKML_OBJECTS), ua.Int16(pk)))
        obj = await folder.add_object(_node_id(f"{self.name}.PackML", ns), ua.QualifiedName(self.name, ns),
                                      objecttype=ua.NodeId(ua.Int32(PACKML_BASE_OBJECT_TYPE), ua.Int16(pk)))
        paths = {"CurrentState": ["BaseStateMachine", "CurrentState"], "CurMachSpeed": ["Status", "CurMachSpeed"],
                 "EquipmentStarved": ["Status", "EquipmentStarved"]}
        for name, path in paths.items():
            node = await obj.get_child([f"{pk}:{path[0]}", f"{0 if path[1] == 'CurrentState' else pk}:{path[1]}"])
            self._packml[name] = node
            self.packml_node_ids[name] = node.nodeid.to_string()

    async def stop(self) -> None:
        """The link goes away (a cable pulled): clients lose their sessions; ``start`` brings it back with the
        same server start time. ``restart`` is a PLC restart instead."""
        await cancel_and_wait(self._ticker)
        self._ticker = None
        if self._server is not None:
            server, self._server = self._server, None
            # asyncua's clock task sleeps a whole second before it notices a stop: cancel it instead.
            iserver = server.iserver
            await cancel_and_wait(iserver.time_task)
            iserver.time_task = None
            await server.stop()

    def _restarting(self) -> None:
        self._keep_start_time = False  # a restarted server reports a new start time

    async def set_bad(self, variable: str, bad: bool = True) -> None:
        """Give ``variable`` a Bad status code (BadSensorFailure) until cleared."""
        if bad:
            self._bad.add(variable)
        else:
            self._bad.discard(variable)
        self._last.pop(variable, None)
        await self._publish(self.machine.snapshot(), force=True)

    async def write_extra(self, values: dict[str, float]) -> None:
        """Write load-test variables (``Tag00000``...) at once, each with a fresh source timestamp."""
        server = self._server
        if server is None:
            return
        now = ua.DateTime.now(UTC)
        for var, value in values.items():
            await server.write_attribute_value(self._nodes[var].nodeid, ua.DataValue(
                ua.Variant(value, ua.VariantType.Double), SourceTimestamp=now, ServerTimestamp=now))

    async def change_setpoint(self, variable: str, value: float) -> None:
        """Change a setpoint on the machine's side (an operator at its HMI), with a fresh source timestamp."""
        if self._server is None:
            return
        now = ua.DateTime.now(UTC)
        await self._server.write_attribute_value(self._nodes[variable].nodeid, ua.DataValue(
            ua.Variant(value, ua.VariantType.Double), SourceTimestamp=now, ServerTimestamp=now))

    async def publish_now(self) -> None:
        """Write the model's current values now (tests call this after driving the model)."""
        await self._publish(self.machine.snapshot())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            self.machine.advance(now - last)
            last = now
            if not self.frozen:
                await self._publish(self.machine.snapshot())

    async def _publish(self, snap: Snapshot, force: bool = False) -> None:
        if self._server is None:
            return
        now = ua.DateTime.now(UTC)
        for var, vtype in VARIABLES.items():
            value = getattr(snap, _FIELDS[var])
            key = (value, var in self._bad)
            if not force and self._last.get(var) == key:
                continue
            self._last[var] = key
            status = ua.StatusCode(ua.UInt32(StatusCodes.BadSensorFailure if var in self._bad else StatusCodes.Good))
            await self._nodes[var].write_value(ua.DataValue(ua.Variant(value, vtype), StatusCode=status,
                                                            SourceTimestamp=now, ServerTimestamp=now))
        if self._packml:
            await self._publish_packml(snap, now, force)

    async def _publish_packml(self, snap: Snapshot, now: Any, force: bool) -> None:
        executing = snap.state == PackMLState.EXECUTE
        values = {
            "CurrentState": ua.Variant(ua.LocalizedText(PackMLState(snap.state).name.capitalize(), "en"),
                                       ua.VariantType.LocalizedText),
            "CurMachSpeed": ua.Variant(60.0 / self.machine.cycle_time_s if executing else 0.0, ua.VariantType.Float),
            "EquipmentStarved": ua.Variant(snap.state == PackMLState.SUSPENDED, ua.VariantType.Boolean),
        }
        for name, variant in values.items():
            key = ("packml", variant.Value)
            if not force and self._last.get(name) == key:
                continue
            self._last[name] = key
            await self._packml[name].write_value(ua.DataValue(variant, SourceTimestamp=now, ServerTimestamp=now))


async def serve(machine: OpcUaMachine, *, start_running: bool = True) -> None:
    """Run ``machine`` until cancelled (``takt sim opcua``)."""
    if start_running:
        machine.machine.start()
    await machine.start()
    try:
        await asyncio.Event().wait()
    finally:
        await machine.stop()
