import * as assert from "node:assert/strict";
import * as net from "node:net";
import { ConnectionLifecycle } from "../../../src/core/lifecycle";
import { InfraError } from "../../../src/core/errors";
import { Backoff } from "../../../src/core/backoff";
import { parseBrokerUrls } from "../../../src/amqp/broker-url";
import { classifyHeader, probeAmqp, ProbeResult, ProtocolCheck } from "../../../src/amqp/protocol-probe";
import { FakeClock } from "../../support/fake-clock";

const AMQP091 = Buffer.from("AMQP\x00\x00\x09\x01", "latin1");
const AMQP10_SASL = Buffer.from("AMQP\x03\x01\x00\x00", "latin1");

/** A TCP server on 127.0.0.1 port 0 that does `onConnection` with each client; records what clients sent. */
async function fakeServer(onConnection: (s: net.Socket) => void): Promise<{ port: number; heard: Buffer[]; close(): Promise<void> }> {
  const heard: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("data", (d) => heard.push(d));
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    heard,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Answer the first bytes a client sends with `answer`, as a broker answers a protocol header. */
const answering = (answer: Buffer, thenClose: boolean) => (s: net.Socket) =>
  s.once("data", () => {
    if (thenClose) s.end(answer);
    else s.write(answer);
  });

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("amqp protocol probe", () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  async function serve(onConnection: (s: net.Socket) => void) {
    const s = await fakeServer(onConnection);
    servers.push(s);
    return s;
  }

  it("a broker that answers the 0-9-1 header and closes (RabbitMQ without the plugin): amqp091-only", async () => {
    const s = await serve(answering(AMQP091, true));
    assert.equal(await probeAmqp("127.0.0.1", s.port, 2000), "amqp091-only");
    assert.deepEqual(Buffer.concat(s.heard), AMQP10_SASL, "the probe sends the AMQP 1.0 SASL header");
  });

  it("a broker that echoes the 1.0 SASL header and stays open: amqp1", async () => {
    const s = await serve(answering(AMQP10_SASL, false));
    assert.equal(await probeAmqp("127.0.0.1", s.port, 2000), "amqp1");
  });

  it("a server that closes at once: other", async () => {
    const s = await serve((sock) => sock.destroy());
    assert.equal(await probeAmqp("127.0.0.1", s.port, 2000), "other");
  });

  it("a server that accepts and never answers: other, after the timeout", async () => {
    const s = await serve(() => undefined);
    assert.equal(await probeAmqp("127.0.0.1", s.port, 100), "other");
  });

  it("a closed port: unreachable", async () => {
    assert.equal(await probeAmqp("127.0.0.1", await closedPort(), 2000), "unreachable");
  });

  it("classifies protocol headers", () => {
    assert.equal(classifyHeader(AMQP091), "amqp091-only");
    assert.equal(classifyHeader(AMQP10_SASL), "amqp1");
    assert.equal(classifyHeader(Buffer.from("AMQP\x00\x01\x00\x00", "latin1")), "amqp1");
    assert.equal(classifyHeader(Buffer.from("AMQP\x01\x01\x00\x0a", "latin1")), "other", "AMQP 0-10");
    assert.equal(classifyHeader(Buffer.from("HTTP/1.1", "latin1")), "other");
    assert.equal(classifyHeader(Buffer.from("AMQP", "latin1")), "other");
  });
});

describe("amqp protocol check (probe once per failure streak)", () => {
  const urls = parseBrokerUrls("amqp://a:5672, amqps://b:5671");

  function setup(result: ProbeResult) {
    const clock = new FakeClock();
    let fail: ((e: Error) => void) | undefined;
    let established: (() => void) | undefined;
    const lc = new ConnectionLifecycle({
      open: (a) => {
        fail = (e) => a.fail(e);
        established = () => a.established();
      },
      clock,
      backoff: new Backoff({ initialMs: 10, maxMs: 10, jitter: 0 }),
    });
    const probes: string[] = [];
    let answer: (() => void) | undefined;
    const check = new ProtocolCheck(lc, urls, (host, port) => {
      probes.push(`${host}:${port}`);
      return new Promise<ProbeResult>((resolve) => (answer = () => resolve(result)));
    });
    const seen: Array<[string, boolean]> = [];
    check.on("amqp091", (u, first) => seen.push([`${u.host}:${u.port}`, first]));
    const failOnce = () => {
      fail!(new InfraError("amqp-error", "Unsupported AMQP version: 0-9-1"));
      clock.advance(10);
    };
    return { lc, clock, check, probes, seen, failOnce, answer: () => answer!(), connect: () => established!() };
  }
  const settle = () => new Promise((r) => setImmediate(r));

  it("probes the plain-TCP URLs after the first failed connect only, and reports a 0-9-1 broker on every retry after", async () => {
    const t = setup("amqp091-only");
    t.lc.start();
    t.failOnce();
    assert.deepEqual(t.probes, ["a:5672"], "amqps:// is not probed");
    t.answer();
    await settle();
    assert.deepEqual(t.seen, [["a:5672", true]]);
    assert.equal(t.check.amqp091Url?.host, "a");
    t.failOnce();
    t.failOnce();
    assert.deepEqual(t.probes, ["a:5672"], "no probe per retry");
    assert.deepEqual(t.seen, [
      ["a:5672", true],
      ["a:5672", false],
      ["a:5672", false],
    ]);
    // The plugin got enabled: the streak ends, and the next failure streak probes again.
    t.connect();
    assert.equal(t.check.amqp091Url, undefined);
    t.lc.restart(new InfraError("amqp-error", "connection lost"));
    assert.deepEqual(t.probes, ["a:5672"], "a lost connection is not a failed connect");
    t.clock.advance(10);
    t.failOnce();
    assert.deepEqual(t.probes, ["a:5672", "a:5672"]);
    t.lc.stop();
  });

  it("says nothing when the probe finds an AMQP 1.0 broker or nothing", async () => {
    for (const r of ["amqp1", "unreachable", "other"] as const) {
      const t = setup(r);
      t.lc.start();
      t.failOnce();
      t.answer();
      await settle();
      assert.deepEqual(t.seen, [], r);
      assert.equal(t.check.amqp091Url, undefined);
      t.lc.stop();
    }
  });

  it("drops a probe answer that comes after the streak ended", async () => {
    const t = setup("amqp091-only");
    t.lc.start();
    t.failOnce();
    t.connect();
    t.answer();
    await settle();
    assert.deepEqual(t.seen, []);
    t.lc.stop();
  });
});
