// An independent OPC UA server (node-opcua) for the connector's interoperability tests: started by
// tests/integration/test_opcua_interop.py, never by the product.
//
// Usage: node node_opcua_server.js PORT PKI_FOLDER USER PASSWORD
//   Endpoints: Basic256Sha256 Sign and SignAndEncrypt only (no None). Anonymous logon is off; USER/PASSWORD is
//   the one account. Client certificates are trusted when they are in PKI_FOLDER/trusted/certs; others are
//   refused and kept in PKI_FOLDER/rejected, as node-opcua does. The server's own certificate is made in
//   PKI_FOLDER/own/certs. Prints "READY <certificate path>" once it listens; stops on SIGTERM.
"use strict";
const path = require("path");
const opcua = require("node-opcua");

async function main() {
    const [port, pkiFolder, user, password] = process.argv.slice(2);
    const serverCertificateManager = new opcua.OPCUACertificateManager({
        rootFolder: pkiFolder, automaticallyAcceptUnknownCertificate: false,
    });
    await serverCertificateManager.initialize();
    const server = new opcua.OPCUAServer({
        port: Number(port),
        hostname: "127.0.0.1",
        alternateHostname: ["127.0.0.1"],
        serverCertificateManager,
        securityPolicies: [opcua.SecurityPolicy.Basic256Sha256],
        securityModes: [opcua.MessageSecurityMode.Sign, opcua.MessageSecurityMode.SignAndEncrypt],
        allowAnonymous: false,
        userManager: { isValidUser: (name, pass) => name === user && pass === password },
        buildInfo: { productName: "takt-interop-check" },
        serverInfo: { applicationUri: "urn:takt:interop:node-opcua" },
    });
    await server.initialize();
    const namespace = server.engine.addressSpace.getOwnNamespace();
    const machine = namespace.addObject({ organizedBy: server.engine.addressSpace.rootFolder.objects, browseName: "M-NODE" });
    let count = 0;
    namespace.addVariable({
        componentOf: machine, browseName: "GoodCount", nodeId: "s=M-NODE.GoodCount", dataType: "UInt32",
        value: { get: () => new opcua.Variant({ dataType: opcua.DataType.UInt32, value: count }) },
    });
    setInterval(() => { count += 1; }, 100);
    await server.start();
    process.stdout.write(`READY ${server.certificateFile}\n`);
    process.on("SIGTERM", async () => { await server.shutdown(0); process.exit(0); });
}

main().catch((err) => { process.stderr.write(`${err.stack}\n`); process.exit(1); });
