import { isIPv6 } from 'node:net';

/**
 * Host names every gateway answers to: loopback names cannot be rebound by a
 * web page, so accepting them never exposes the gateway to another origin.
 * @public
 */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

// A Host header: a bracketed IPv6 literal or a reg-name/IPv4, then an optional port (RFC 9110 §7.2).
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)(?::\d*)?$/;
const HOST_NAME = /^(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)$/;

/**
 * The canonical spelling of a host name for comparison: lower case, an IPv6
 * literal bracketed and compressed (as browsers send it); `undefined` when
 * `name` is not a plain host name (a port, a scheme, a path, user info…).
 */
function canonical(name: string): string | undefined {
  const lower = name.trim().toLowerCase();
  const bracketed = isIPv6(lower) ? `[${lower}]` : lower;
  if (!HOST_NAME.test(bracketed)) return undefined;
  if (!bracketed.startsWith('[')) return bracketed;
  if (!isIPv6(bracketed.slice(1, -1))) return undefined;
  // WHATWG URL parsing compresses IPv6 the way browsers write it in Host.
  return new URL(`http://${bracketed}/`).hostname;
}

/** The names under which a local socket address can be reached: an IPv4-mapped IPv6 address also as IPv4. */
function addressNames(address: string | undefined): string[] {
  if (!address || address.includes('%')) return []; // zone ids never appear in a browser's Host
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return [canonical(address), mapped ? mapped[1] : undefined].filter((n): n is string => n !== undefined);
}

/**
 * Decides which `Host` values the gateway answers (DNS rebinding defence): a
 * page on `attacker.example` whose name was re-pointed at 127.0.0.1 makes
 * the browser send `Host: attacker.example`, and is refused. Accepted, on any
 * port: the loopback names, the address the connection arrived on (an IP
 * literal cannot be rebound) and the `extra` names. The port is not checked:
 * a rebinding page is told apart by its name, and port forwards change ports.
 * @public
 */
export class HostAllowList {
  readonly #names: ReadonlySet<string>;

  /** @throws TypeError for an entry that is not a bare host name or IP literal (no port, scheme or path). */
  constructor(extra: readonly string[] = []) {
    const names = new Set<string>();
    for (const entry of [...LOOPBACK_HOSTS, ...extra]) {
      const name = typeof entry === 'string' ? canonical(entry) : undefined;
      if (!name) {
        throw new TypeError(
          `allowed host ${JSON.stringify(entry)} is not a host name or IP address (no port or scheme)`,
        );
      }
      names.add(name);
    }
    this.#names = names;
  }

  /**
   * Whether a request's `Host` header value (and, for an absolute-form request
   * target, its authority) names this gateway. A missing or malformed value is
   * refused. `localAddress` is the connection's local address (`req.socket.localAddress`).
   */
  allows(host: string | undefined, localAddress: string | undefined): boolean {
    if (host === undefined) return false;
    const m = HOST_HEADER.exec(host.trim().toLowerCase());
    const name = m?.[1] === undefined ? undefined : canonical(m[1]);
    if (name === undefined) return false;
    return this.#names.has(name) || addressNames(localAddress).includes(name);
  }
}
