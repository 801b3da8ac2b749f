import assert from "node:assert/strict";
import fc from "fast-check";
import { withoutUserInfo, withoutUserInfoError } from "../../../src/nodes/lib/redact";

describe("core/redact", () => {
  it("removes user:password@ from one URL or a list, and leaves clean URLs alone", () => {
    assert.equal(withoutUserInfo("wss://root:secret@10.0.0.1:12150"), "wss://10.0.0.1:12150");
    assert.equal(withoutUserInfo("amqp://a:5672, amqps://u:p@b:5671"), "amqp://a:5672, amqps://b:5671");
    // An "@" after host:port may be a password with a "/" (admin:2024/Secret@apic): hidden too.
    assert.equal(withoutUserInfo("ws://127.0.0.1:12152/path@x"), "ws://***@x");
    assert.equal(withoutUserInfo("https://admin:2024/Secret@apic"), "https://***@apic");
  });

  // [input, expected]: every case must also lose the secret entirely (checked below).
  const TABLE: Array<[string, string]> = [
    ["amqp://user:pass@broker:5672", "amqp://broker:5672"],
    ["https://admin:s3cret@apic.example.com", "https://apic.example.com"],
    ["wss://root:secret@10.0.0.1:12150/", "wss://10.0.0.1:12150/"],
    // "@" in the password: the userinfo ends at the last "@" (the old regex left "ss@host").
    ["https://admin:p@ss@apic", "https://apic"],
    ["amqp://u:p@s@s@[::1]:5672", "amqp://[::1]:5672"],
    // ":" and percent-encoded "@" in the password, an e-mail as the user name.
    ["https://admin:pa:ss:wd@apic:443/api", "https://apic:443/api"],
    ["https://admin:p%40ss@apic", "https://apic"],
    ["https://me@corp.example:secret@apic", "https://apic"],
    // IPv6 hosts, with and without userinfo, with a zone.
    ["amqp://u:secret@[2001:db8::1]:5671", "amqp://[2001:db8::1]:5671"],
    ["amqp://[2001:db8::1]:5671", "amqp://[2001:db8::1]:5671"],
    ["wss://[fe80::1%25eth0]:12150", "wss://[fe80::1%25eth0]:12150"],
    // Lists: commas with or without spaces, newlines, several secrets.
    ["amqp://u:secret@a,amqps://v:secret@b:5671", "amqp://a,amqps://b:5671"],
    ["amqp://a:5672,amqps://u:secret@b", "amqp://a:5672,amqps://b"],
    ["https://u:secret@c1\nhttps://c2\r\nhttps://x:secret@c3", "https://c1\nhttps://c2\r\nhttps://c3"],
    ["amqp://u:se,cret@a", "amqp://a"],
    ["amqp://admin:aaa://bbb@h", "amqp://h"],
    // Free text that quotes URLs (error messages), and URLs in parentheses.
    ['"amqp://u:secret@h" is not a broker URL', '"amqp://h" is not a broker URL'],
    ["unreachable (ECONNREFUSED): POST to https://admin:secret@apic:8443; retry", "unreachable (ECONNREFUSED): POST to https://apic:8443; retry"],
    ["socket closed by (wss://u:secret@h)", "socket closed by (wss://h)"],
    ['sysadm URL must start with wss:// or ws://, got "http://u:secret@h"', 'sysadm URL must start with wss:// or ws://, got "http://h"'],
    // Secrets that make the URL invalid are hidden anyway.
    ["https://admin:pa/ss@apic", "https://apic"],
    ["https://admin:pa?ss#x@apic/q", "https://apic/q"],
    ["amqp://u:secret", "amqp://u:***"],
    ["amqp://u:sec ret@h", "amqp://u:*** h"],
    ["u:secret@host:5672", "host:5672"],
    ["user:p@ss@10.0.0.1", "10.0.0.1"],
    // Nothing to hide: left exactly as it was.
    ["amqp://127.0.0.1:5672", "amqp://127.0.0.1:5672"],
    ["connect ECONNREFUSED 127.0.0.1:5672", "connect ECONNREFUSED 127.0.0.1:5672"],
    ["admin@example.com wrote https://h/a//b?x=1#f", "admin@example.com wrote https://h/a//b?x=1#f"],
    ["'https://u:secret@h' and `wss://v:secret@k`", "'https://h' and `wss://k`"],
    ["", ""],
  ];
  for (const [input, want] of TABLE) {
    it(`${JSON.stringify(input)}`, () => {
      const got = withoutUserInfo(input);
      assert.equal(got, want);
      for (const secret of ["secret", "s3cret", "p@ss", "pass", "pa:ss", "p%40ss", "pa/ss", "se,cret", "sec ret", "ret@"]) {
        if (input.includes(secret)) assert.ok(!got.includes(secret), `"${secret}" left in ${got}`);
      }
    });
  }

  it("property: a password of any characters, written as users do, never survives in any URL form", () => {
    const chars = fc.constantFrom(..."abcXYZ019@:%/?#!$&'()*+,;=-._~[]");
    fc.assert(
      fc.property(
        // A "://" inside a password is the one thing read as the start of the next URL of a list.
        fc.string({ unit: chars, minLength: 6, maxLength: 20 }).filter((p) => /[a-zA-Z0-9]{3}/.test(p) && !p.includes("://")),
        fc.constantFrom("amqp", "amqps", "https", "wss", "ws"),
        fc.constantFrom("h", "apic.example.com", "10.0.0.1:5671", "[::1]:12150"),
        fc.constantFrom("", "/", "/api/x"),
        (pw, scheme, host, path) => {
          const url = `${scheme}://admin:${pw}@${host}${path}`;
          // The distinctive run of the password must not appear in what is shown.
          const run = /[a-zA-Z0-9]{3,}/.exec(pw)![0];
          for (const text of [url, `${url}, ${scheme}://other`, `error: "${url}" refused`]) {
            const got = withoutUserInfo(text);
            assert.ok((!got.includes(`:${pw}`) && !got.includes(run)) || host.includes(run) || path.includes(run) || scheme.includes(run), `${text} -> ${got}`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("withoutUserInfoError cleans message and stack in place, and returns untouched errors as they are", () => {
    const e = new Error('"amqp://u:secret@h" is not a broker URL');
    assert.equal(withoutUserInfoError(e), e);
    assert.equal(e.message, '"amqp://h" is not a broker URL');
    assert.ok(!e.stack!.includes("secret"));
    const clean = new Error("plain");
    const stack = clean.stack;
    assert.equal(withoutUserInfoError(clean), clean);
    assert.equal(clean.stack, stack);
  });
});
