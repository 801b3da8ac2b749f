/**
 * Text without the `user:password@` of any URL in it: for logs, status and messages, which must
 * never carry a secret someone typed into an address field. Works on one URL, a list
 * ("amqp://a, amqps://u:p@b", commas with or without spaces) and on free text that quotes URLs
 * (an error message).
 *
 * The userinfo ends at the LAST `@` of the authority, as URL parsers read it, so a password that
 * holds `@`, `:` or `%40` disappears whole; IPv6 hosts (`[::1]`) are left alone. For a URL no
 * parser would accept, the secret is hidden anyway:
 * - an authority that is not `host[:port]` (e.g. `u:pa/ss@h`, a `/` in the password) loses
 *   everything up to an `@` further on, or else all after its first `:`;
 * - a `host:port` followed by an `@` in the path (`admin:2024/Secret@apic` reads as port 2024)
 *   shows as `***@` and what follows the last `@`;
 * - a password with a space leaves its second half as the next word: that word loses what
 *   precedes its `@`;
 * - a bare `user:password@host` (no scheme) loses `user:password@` (`name@domain` stays).
 * What it cannot tell from a list is a password holding `,scheme://`: the part after it is read
 * as the next URL.
 */
export function withoutUserInfo(text: string): string {
  let pending = false;
  return String(text).replace(WORD, (word) => {
    const r = redactWord(word, pending);
    pending = r.pending;
    return r.text;
  });
}

/** An Error whose message (and stack) went through withoutUserInfo; the same object when nothing changed. */
export function withoutUserInfoError<E extends Error>(e: E): E {
  const message = withoutUserInfo(e.message);
  const stack = e.stack === undefined ? undefined : withoutUserInfo(e.stack);
  if (message === e.message && stack === e.stack) return e;
  e.message = message;
  if (stack !== undefined) e.stack = stack;
  return e;
}

// Words: what lies between spaces. Commas (lists) and quotes stay inside: a quote after a URL
// ends up in its authority and goes with it; one inside a password is part of the password.
const WORD = /\S+/g;
// The next URL of a list: after a separator, so a "x://" inside a password does not count.
const NEXT_URL = /[,;][A-Za-z][A-Za-z0-9+.-]*:\/\//g;
// host, reg-name or [IPv6], then an optional numeric port; trailing list punctuation tolerated.
const HOST_PORT = /^(\[[0-9A-Za-z:.%]*\]|[^:@[\]]*)(:\d*)?[,;.)]*$/;

function redactWord(word: string, pendingIn: boolean): { text: string; pending: boolean } {
  if (!word.includes("//")) {
    // The rest of a password that held a space, after a URL whose authority made no sense.
    if (pendingIn && word.includes("@")) return { text: word.slice(word.lastIndexOf("@") + 1), pending: false };
    // A bare user:password@host (no scheme): everything before the last "@" of its authority,
    // when that holds a ":" (so a plain name@domain is left as it is).
    const m = /^([^/?#]*)@/.exec(word);
    if (m && m[1].includes(":")) return { text: word.slice(m[0].length), pending: false };
    return { text: word, pending: pendingIn && !word.includes("@") };
  }
  let out = "";
  let from = 0;
  let pending = false;
  // Each "//" starts an authority; a URL ends where the next ",scheme://" begins.
  for (let i = word.indexOf("//"); i >= 0; i = word.indexOf("//", from)) {
    const start = i + 2;
    out += word.slice(from, start);
    const next = nextUrl(word, start);
    const rest = word.slice(start, next);
    const end = firstOf(rest, "/?#\\");
    const authority = rest.slice(0, end);
    const valid = HOST_PORT.test(authority);
    const later = rest.lastIndexOf("@");
    if (later >= 0) {
      // Everything up to the last "@" goes. Plainly when it ended userinfo (or the authority is
      // no host:port, e.g. `u:pa/ss@h`); marked when it follows a host:port, which may be a path
      // that holds an "@" or a password with a "/" that starts with digits
      // (`admin:2024/Secret@apic` reads as port 2024).
      out += (authority.includes("@") || !valid ? "" : "***@") + rest.slice(later + 1);
      pending = false;
    } else if (valid) {
      out += rest;
      pending = false;
    } else {
      // Not host[:port] and no "@" follows: a secret with a space (its rest is the next word)
      // or a broken URL. All after the first ":" goes.
      const colon = authority.indexOf(":");
      out += colon >= 0 ? `${authority.slice(0, colon + 1)}***` : rest;
      pending = colon >= 0;
    }
    from = next;
    if (from >= word.length) break;
  }
  out += word.slice(from);
  return { text: out, pending };
}

/** Where the next `,scheme://` of a list starts after `from` (the end of the word if none). */
function nextUrl(word: string, from: number): number {
  NEXT_URL.lastIndex = from;
  const m = NEXT_URL.exec(word);
  return m ? m.index + 1 : word.length;
}

function firstOf(s: string, chars: string): number {
  for (let i = 0; i < s.length; i++) if (chars.includes(s[i])) return i;
  return s.length;
}

/**
 * A URL the way a client should dial it when user:password@ does not belong in it: the parsed
 * URL's username and password cleared, the rest as typed. Text that does not parse is returned
 * as it is (the caller refuses it, and shows it through withoutUserInfo).
 */
export function withoutUrlCredentials(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // not a URL: nothing a parser would take as credentials
  }
  if (!u.username && !u.password) return url;
  u.username = "";
  u.password = "";
  const out = u.toString();
  // URL adds a "/" path to "https://host": keep the form the user gave.
  return out.endsWith("/") && !url.endsWith("/") && u.pathname === "/" && !u.search && !u.hash ? out.slice(0, -1) : out;
}
