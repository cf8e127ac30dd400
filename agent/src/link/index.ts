export { connectLink, type ConnectLinkOptions } from './trpc-link.ts';
export { requestEnrollment } from './enroll-client.ts';
export { createSender, type Sender, type SenderOptions, type SenderStats } from './sender.ts';
export { createHeartbeat, type Heartbeat, type HeartbeatOptions } from './heartbeat.ts';
export { classify } from './classify.ts';
export { trpcWsUrl, trpcHttpUrl } from './ws-url.ts';
export { LinkError, LINK_ERROR_CODES, type AgentApi, type AgentLink, type LinkErrorCode } from './types.ts';
