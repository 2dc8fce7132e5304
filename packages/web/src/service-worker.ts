import { createMediaHandler, type MediaHandler, type MediaHandlerOptions } from './media-handler';

/**
 * The part of a Service Worker's `FetchEvent` used here (declared, not taken
 * from the WebWorker lib, which clashes with DOM's in one program).
 * @public
 */
export interface FetchEventLike {
  readonly request: Request;
  respondWith(response: Promise<Response> | Response): void;
}

/**
 * The part of `ServiceWorkerGlobalScope` used here.
 * @public
 */
export interface ServiceWorkerScopeLike {
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void;
  readonly location: { readonly origin: string };
}

/**
 * Options of {@link serveEncryptedMedia}.
 * @public
 */
export interface ServeEncryptedMediaOptions extends MediaHandlerOptions {
  /**
   * The object id a same-origin request URL stands for (e.g. `/media/<id>` →
   * `<id>`), or `undefined` to leave the request to the network.
   */
  readonly match: (url: URL) => string | undefined;
  /** The worker's global scope (default `self`). */
  readonly scope?: ServiceWorkerScopeLike;
}

/**
 * Registers a `fetch` listener on the Service Worker's scope that answers the
 * same-origin requests `match` recognises — a `<video>`/`<audio>` element's
 * Range requests — by decrypting ranged GETs of the encrypted objects (see
 * {@link createMediaHandler}); other requests are left alone. Call it once,
 * at the top level of the worker script.
 *
 * ```ts
 * // sw.ts, bundled for the browser
 * serveEncryptedMedia({
 *   match: (url) => (url.pathname.startsWith('/media/') ? decodeURIComponent(url.pathname.slice(7)) : undefined),
 *   resolve: (id) => fetchPresignedGet('/presign/', `media/${id}`),
 *   keyring: () => loadKeyring(),
 * });
 * ```
 * @public
 */
export function serveEncryptedMedia(options: ServeEncryptedMediaOptions): MediaHandler {
  if (typeof options?.match !== 'function') throw new TypeError('options.match must be a function');
  const scope = options.scope ?? (globalThis as unknown as ServiceWorkerScopeLike);
  if (typeof scope?.addEventListener !== 'function') throw new TypeError('no Service Worker scope to listen on');
  const handler = createMediaHandler(options);
  const origin = scope.location.origin;
  scope.addEventListener('fetch', (event) => {
    const url = new URL(event.request.url);
    if (url.origin !== origin) return;
    const id = options.match(url);
    if (id === undefined) return;
    event.respondWith(handler.handle(event.request, id));
  });
  return handler;
}
