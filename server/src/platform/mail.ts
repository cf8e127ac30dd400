import nodemailer, { type Transporter } from 'nodemailer';

/**
 * The server's SMTP connections, one pooled transport per SMTP_URL: alert emails and password
 * reset links go out through the same mail server and the same timeouts.
 */
const mailers = new Map<string, Transporter>();

/** SMTP options from SMTP_URL, with the timeouts that keep a dead mail server from hanging a sender. */
function smtpOptions(smtpUrl: string, timeoutMs: number) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname, port: url.port ? Number(url.port) : secure ? 465 : 587, secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
  };
}

/** The transport for `smtpUrl` (smtp:// or smtps://), made on first use. */
export function mailer(smtpUrl: string, timeoutMs: number): Transporter {
  let transport = mailers.get(smtpUrl);
  if (!transport) {
    transport = nodemailer.createTransport(smtpOptions(smtpUrl, timeoutMs));
    mailers.set(smtpUrl, transport);
  }
  return transport;
}

/** Closes pooled SMTP connections (shutdown, tests). */
export function closeMailers(): void {
  for (const transport of mailers.values()) transport.close();
  mailers.clear();
}
