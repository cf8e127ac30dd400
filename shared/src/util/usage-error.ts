/**
 * Bad input from the command line, the environment or a config file: the `ninjait` CLI and the
 * agent both print its message without a stack and exit with 2. One class, so a check written
 * against it in either program recognises the other's.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
