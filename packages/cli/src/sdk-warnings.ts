/**
 * On Node < 22, @aws-sdk/core prints an 8-line `NodeVersionSupportWarning`
 * (process.emitWarning) when the first S3 client is made, unless this
 * variable is "true" (see emitWarningIfUnsupportedVersion in
 * @aws-sdk/core/client). It is advice for the developer of an SDK
 * application, noise for a CLI user, so only that one warning is turned off:
 * every other warning still prints.
 */
export const SDK_NODE_VERSION_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** Turns the SDK's Node-version warning off before a client is made, unless the user set the switch already. */
export function silenceSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env[SDK_NODE_VERSION_WARNING_SWITCH] ??= 'true';
}
