/**
 * The agent<->server wire protocol's version: one integer, raised when a message changes in a
 * way the other side must know about (a new required field, a changed meaning). Additive,
 * optional fields do not raise it: zod's optional fields already let old and new agents coexist.
 *
 * Agents update on their own schedule, so a server accepts every version from
 * MIN_PROTOCOL_VERSION up to its own PROTOCOL_VERSION. Agents released before the version was
 * sent (0.1.0 and older) send none: they speak version 1.
 */
export const PROTOCOL_VERSION = 3;
/**
 * The first protocol whose agents take upload chunks as binary frames (`upload-frames.ts`); the
 * server sends older ones the chunk as base64 in JSON.
 */
export const UPLOAD_FRAMES_PROTOCOL = 3;
/** The oldest agent protocol this server still serves; raise it only with a release note. */
export const MIN_PROTOCOL_VERSION = 1;
/** What an agent that sends no version speaks. */
export const UNVERSIONED_PROTOCOL = 1;
/** Where the agent sends its version on the WebSocket (connection params are strings). */
export const PROTOCOL_VERSION_PARAM = 'protocolVersion';

export type ProtocolVerdict = { ok: true; version: number } | { ok: false; message: string };

/**
 * Whether this server speaks the protocol an agent announced (a number at enrollment, a string
 * in WebSocket connection params, nothing from agents older than the version). The refusal says
 * which side to update, in words a technician acts on.
 */
export function checkProtocolVersion(announced: unknown): ProtocolVerdict {
  if (announced === undefined || announced === null || announced === '') return { ok: true, version: UNVERSIONED_PROTOCOL };
  const version = typeof announced === 'number' ? announced : typeof announced === 'string' && /^\d{1,6}$/.test(announced) ? Number(announced) : Number.NaN;
  if (!Number.isSafeInteger(version) || version < 1) {
    return { ok: false, message: 'The agent sent a protocol version that is not a positive whole number; reinstall the agent' };
  }
  const accepted = `this server accepts ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`;
  if (version > PROTOCOL_VERSION) {
    return { ok: false, message: `This agent speaks protocol ${version}, newer than the server (${accepted}): update the server, or install the agent the server offers` };
  }
  if (version < MIN_PROTOCOL_VERSION) {
    return { ok: false, message: `This agent speaks protocol ${version}, which this server no longer serves (${accepted}): reinstall the agent from the server's install page` };
  }
  return { ok: true, version };
}
