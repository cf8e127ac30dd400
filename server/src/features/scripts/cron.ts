import { CronExpressionParser } from 'cron-parser';
import { AppError } from '../../platform/errors.ts';

/** Throws a typed error unless `timezone` is an IANA zone this runtime knows (e.g. Europe/Berlin). */
export function assertTimeZone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new AppError('BAD_REQUEST', `Unknown time zone "${timezone.slice(0, 64)}": use an IANA name such as Europe/Berlin or UTC`);
  }
  // Intl also takes offsets like "+01:00"; schedules follow a named zone (its daylight saving).
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(timezone)) {
    throw new AppError('BAD_REQUEST', `Unknown time zone "${timezone.slice(0, 64)}": use an IANA name such as Europe/Berlin or UTC`);
  }
}

/**
 * The first time after `after` that the cron expression (five fields: minute hour day month
 * weekday) matches in `timezone`. Invalid expressions and zones are typed BAD_REQUEST errors.
 */
export function nextRun(cron: string, timezone: string, after: Date): Date {
  assertTimeZone(timezone);
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new AppError('BAD_REQUEST', `Invalid cron expression "${cron.slice(0, 200)}": it has five fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * *"`);
  }
  try {
    return CronExpressionParser.parse(cron, { tz: timezone, currentDate: after, strict: false }).next().toDate();
  } catch (error) {
    throw new AppError('BAD_REQUEST', `Invalid cron expression "${cron.slice(0, 200)}": ${(error as Error).message.slice(0, 300)}`);
  }
}
