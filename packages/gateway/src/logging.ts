/**
 * One gateway event, for logs.
 * @public
 */
export interface GatewayLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly event: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly status?: number;
  readonly detail?: string;
}

/** Where the gateway sends its events (`GatewayOptions.log`). */
export type GatewayLog = (entry: GatewayLogEntry) => void;

/** An attacker's header for a log line: anything but printable ASCII escaped (no terminal controls, no bidi). */
export function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An error as one log detail: its code (or name) and message. */
export function describeError(error: unknown): string {
  const e = error as { code?: string; name?: string; message?: string };
  return [e?.code ?? e?.name, e?.message].filter(Boolean).join(': ');
}
