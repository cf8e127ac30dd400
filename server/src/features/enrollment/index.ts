/** What other features use of enrollment: making a token (install links), and how long one may live. */
export { createEnrollmentToken } from './enrollment-tokens.ts';
export { TOKEN_MAX_LIFETIME_SEC } from './tokens.router.ts';
