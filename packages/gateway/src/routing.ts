import type { IncomingMessage } from 'node:http';
import type { HostAllowList } from './allowed-hosts';
import { type GatewayScope, resolveObjectPath } from './object-path';
import { verifySignedPath } from './signed-links';

/** What the gateway does with a request, decided before any S3 request. */
export type Route =
  /** Not a path of the scope, and there is a next middleware: it answers (with its own headers). */
  | { readonly kind: 'next' }
  /** Answered at once with `status`; `host` is set for a 421 (for the log). */
  | { readonly kind: 'refused'; readonly status: 403 | 404 | 405 | 421; readonly host?: string }
  /** A GET or HEAD of one object in scope. */
  | { readonly kind: 'object'; readonly method: 'GET' | 'HEAD'; readonly bucket: string; readonly key: string };

/** What {@link routeRequest} checks a request against. */
export interface RoutingRules {
  readonly scope: GatewayScope;
  readonly hosts: HostAllowList;
  readonly signingKey?: Uint8Array;
  /** Whether the gateway runs as middleware, so requests outside the scope go on. */
  readonly hasNext: boolean;
}

/**
 * Routes a request. The order matters: the Host check comes before 404, so a
 * DNS-rebinding page learns nothing about which keys exist; the signature
 * check comes last, so 405 and 404 need no signed link.
 */
export function routeRequest(req: IncomingMessage, rules: RoutingRules): Route {
  const url = splitTarget(req.url ?? '/');
  const method = req.method ?? 'GET';
  const target = resolveObjectPath(url.pathname, rules.scope);
  if (!target && rules.hasNext) return { kind: 'next' };
  const host = req.headers.host ?? (req.headers[':authority'] as string | undefined);
  const local = req.socket?.localAddress;
  if (!rules.hosts.allows(host, local) || (url.authority !== undefined && !rules.hosts.allows(url.authority, local))) {
    return { kind: 'refused', status: 421, host: String(host) };
  }
  if (!target) return { kind: 'refused', status: 404 };
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'refused', status: 405 };
  if (rules.signingKey && !verifySignedPath(url.pathname, url.searchParams, rules.signingKey)) {
    return { kind: 'refused', status: 403 };
  }
  return { kind: 'object', method, bucket: target.bucket, key: target.key };
}

/**
 * The path and query of a request target exactly as sent, and the authority
 * of an absolute-form target. Not WHATWG URL parsing: it would resolve
 * `.`/`..` (also percent-encoded) and turn `\` into `/` before
 * resolveObjectPath could refuse them, making aliases of keys.
 */
function splitTarget(target: string): { pathname: string; searchParams: URLSearchParams; authority?: string } {
  const origin = /^[a-z][a-z\d+.-]*:\/\/([^/?#]*)/i.exec(target); // absolute-form (RFC 9112 §3.2.2)
  const rest = origin ? target.slice(origin[0].length) || '/' : target;
  const q = rest.indexOf('?');
  return {
    pathname: q < 0 ? rest : rest.slice(0, q),
    searchParams: new URLSearchParams(q < 0 ? '' : rest.slice(q + 1)),
    ...(origin ? { authority: origin[1] } : {}),
  };
}
